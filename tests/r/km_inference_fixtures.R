# Reference values for the Kaplan-Meier inference in analysis/survival.py: quantiles with CIs
# (quantile.survfit), the survfit table (summary(fit, rmean=)$table: restricted mean, its SE,
# median and CI as print.survfit), survdiff (log-rank / G-rho, strata), robust (IJ) standard
# errors with cluster= / id=, and R's na.omit on missing values.
#
# Run from the repository root:  Rscript tests/r/km_inference_fixtures.R
# Writes the public datasets used (<name>_data.csv: lung, veteran, pbc, colon, heart from the
# survival package, plus small hand-made tie cases) and R's outputs to
# tests/fixtures/r/km_inference/. Produced with R 4.2.2 and survival 3.5-3 (versions.csv).

suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/fixtures/r/km_inference"
dir.create(out, recursive = TRUE, showWarnings = FALSE)
wcsv <- function(x, name) {
  write.csv(x, file.path(out, paste0(name, ".csv")), row.names = FALSE, na = "NA")
}
options(digits = 15)
wcsv(data.frame(package = c("R", "survival"),
                version = c(R.version.string, as.character(packageVersion("survival")))),
     "versions")

# ---------------------------------------------------------------- data
lung_d <- lung[, c("inst", "time", "status", "sex", "ph.ecog", "age")]
lung_d$ph_ecog <- lung_d$ph.ecog
lung_d$ph.ecog <- NULL
lung_d$event <- as.integer(lung_d$status == 2)
lung_d$row <- seq_len(nrow(lung_d))
lung_d$wint <- 1 + lung_d$row %% 3                  # integer weights (Greenwood)
lung_d$wdec <- 0.5 + (lung_d$row %% 7) / 4          # non-integer weights (robust IJ)
wcsv(lung_d, "lung_data")
vet <- veteran[, c("trt", "celltype", "time", "status", "karno", "prior")]
vet$celltype <- as.character(vet$celltype)
wcsv(vet, "veteran_data")
pbc_d <- pbc[, c("id", "time", "status", "trt", "sex", "edema", "stage")]
pbc_d$sex <- as.character(pbc_d$sex)
pbc_d$death <- as.integer(pbc_d$status == 2)
wcsv(pbc_d, "pbc_data")
colon_d <- colon[, c("id", "time", "status", "rx", "etype", "sex")]
colon_d$rx <- as.character(colon_d$rx)
wcsv(colon_d, "colon_data")
heart_d <- heart[, c("id", "start", "stop", "event", "transplant", "surgery")]
heart_d$transplant <- as.integer(as.character(heart_d$transplant))
wcsv(heart_d, "heart_data")
# hand-made ties: S = 0.5 exactly on a flat step (median 52.5), on the last step (midpoint with
# the last follow-up time), quantile 0.25 exactly, tied events across groups, weights
hand <- data.frame(
  time = c(50, 52, 53, 60,  10, 20, 20, 30, 40, 45,  5, 5, 8, 8, 12, 15, 15, 18),
  status = c(1, 1, 1, 0,  1, 1, 0, 1, 0, 0,  1, 1, 1, 0, 1, 1, 1, 0),
  case = c(rep("a", 4), rep("b", 6), rep("c", 8)),
  grp = c("x", "y", "x", "y",  "x", "x", "y", "y", "x", "y",  "x", "y", "x", "y", "x", "y",
          "y", "x"),
  w = c(1, 1, 2, 2,  1, 1, 1, 1, 1, 1,  1, 2, 1, 2, 1, 1, 2, 1),
  entry = c(0, 0, 51, 0,  0, 5, 0, 0, 25, 0,  0, 0, 0, 4, 6, 0, 0, 0))
wcsv(hand, "hand_data")

# ---------------------------------------------------------------- fits to check
# name -> fit (every fit is also checked for quantiles and the table)
fits <- list(
  lung_all = survfit(Surv(time, event) ~ 1, data = lung_d),
  lung_sex = survfit(Surv(time, event) ~ sex, data = lung_d),
  lung_sex_loglog = survfit(Surv(time, event) ~ sex, data = lung_d, conf.type = "log-log"),
  lung_sex_plain = survfit(Surv(time, event) ~ sex, data = lung_d, conf.type = "plain"),
  lung_sex_90 = survfit(Surv(time, event) ~ sex, data = lung_d, conf.int = 0.9),
  lung_ecog = survfit(Surv(time, event) ~ ph_ecog, data = lung_d),       # 1 NA group dropped
  lung_wint = survfit(Surv(time, event) ~ sex, data = lung_d, weights = wint),
  lung_wdec = survfit(Surv(time, event) ~ sex, data = lung_d, weights = wdec),
  lung_cluster = survfit(Surv(time, event) ~ sex, data = lung_d, cluster = inst),  # NA inst
  lung_cluster_loglog = survfit(Surv(time, event) ~ 1, data = lung_d, cluster = inst,
                                conf.type = "log-log"),
  lung_cluster_wdec = survfit(Surv(time, event) ~ sex, data = lung_d, cluster = inst,
                              weights = wdec),
  vet_trt = survfit(Surv(time, status) ~ trt, data = vet),
  vet_cell = survfit(Surv(time, status) ~ celltype, data = vet),
  vet_cell_loglog = survfit(Surv(time, status) ~ celltype, data = vet, conf.type = "log-log"),
  vet_cell_plain = survfit(Surv(time, status) ~ celltype, data = vet, conf.type = "plain"),
  pbc_trt = survfit(Surv(time, death) ~ trt, data = pbc_d),               # 106 NA trt
  pbc_stage = survfit(Surv(time, death) ~ stage, data = pbc_d),
  colon_rx = survfit(Surv(time, status) ~ rx, data = colon_d),
  colon_rx_cluster = survfit(Surv(time, status) ~ rx, data = colon_d, cluster = id),
  colon_rx_cluster_plain = survfit(Surv(time, status) ~ rx, data = colon_d, cluster = id,
                                   conf.type = "plain"),
  heart_entry = survfit(Surv(start, stop, event) ~ 1, data = heart_d),
  heart_entry_surgery = survfit(Surv(start, stop, event) ~ surgery, data = heart_d),
  heart_id_robust = survfit(Surv(start, stop, event) ~ surgery, data = heart_d, id = id,
                            robust = TRUE),
  heart_id_loglog = survfit(Surv(start, stop, event) ~ 1, data = heart_d, id = id,
                            robust = TRUE, conf.type = "log-log"),
  hand_a = survfit(Surv(time, status) ~ 1, data = hand[hand$case == "a", ]),
  hand_a_w = survfit(Surv(time, status) ~ 1, data = hand[hand$case == "a", ], weights = w),
  hand_a_entry = survfit(Surv(entry, time, status) ~ 1, data = hand[hand$case == "a", ]),
  hand_b = survfit(Surv(time, status) ~ 1, data = hand[hand$case == "b", ]),
  hand_b_loglog = survfit(Surv(time, status) ~ 1, data = hand[hand$case == "b", ],
                          conf.type = "log-log"),
  hand_b_plain = survfit(Surv(time, status) ~ 1, data = hand[hand$case == "b", ],
                         conf.type = "plain"),
  hand_c_grp = survfit(Surv(time, status) ~ grp, data = hand[hand$case == "c", ]),
  hand_c_grp_w = survfit(Surv(time, status) ~ grp, data = hand[hand$case == "c", ],
                         weights = w),
  hand_c_entry = survfit(Surv(entry, time, status) ~ grp, data = hand[hand$case == "c", ],
                         weights = w)
)
labels_of <- function(fit) {
  if (is.null(fit$strata)) "all" else sub("^[^=]*=", "", names(fit$strata))
}
probs <- c(0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)
q_rows <- list()
t_rows <- list()
c_rows <- list()
for (name in names(fits)) {
  f <- fits[[name]]
  lab <- labels_of(f)
  q <- quantile(f, probs = probs)
  qm <- function(m) matrix(m, nrow = length(lab))
  q_rows[[name]] <- data.frame(
    fit = name, group = rep(lab, length(probs)), prob = rep(probs, each = length(lab)),
    quantile = as.vector(qm(q$quantile)), lower = as.vector(qm(q$lower)),
    upper = as.vector(qm(q$upper)))
  for (rm in c("common", "individual", "tau")) {
    tau <- if (rm == "tau") (min(f$time) + max(f$time)) / 2 else rm
    tab <- summary(f, rmean = tau)$table
    if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
    end <- summary(f, rmean = tau)$rmean.endtime
    t_rows[[paste(name, rm)]] <- data.frame(
      fit = name, rmean_type = rm, group = lab, tau = rep(end, length.out = length(lab)),
      records = tab[, "records"], events = tab[, "events"], rmean = tab[, "rmean"],
      se_rmean = tab[, "se(rmean)"], median = tab[, "median"],
      lcl = tab[, grep("LCL$", colnames(tab))], ucl = tab[, grep("UCL$", colnames(tab))])
  }
  strata <- if (is.null(f$strata)) rep("all", length(f$time)) else
    rep(lab, f$strata)
  c_rows[[name]] <- data.frame(
    fit = name, group = strata, time = f$time, n_risk = f$n.risk, n_event = f$n.event,
    surv = f$surv, std_err = f$std.err, logse = f$logse, lower = f$lower, upper = f$upper)
}
wcsv(do.call(rbind, q_rows), "quantiles")
wcsv(do.call(rbind, t_rows), "table")
wcsv(do.call(rbind, c_rows), "curves")
# observations deleted due to missingness, as R reports them (naprint)
na_count <- function(f) if (is.null(f$na.action)) 0L else length(f$na.action)
wcsv(data.frame(fit = names(fits), n_missing = sapply(fits, na_count)), "na_action")

# ---------------------------------------------------------------- survdiff
tests <- list(
  vet_trt = survdiff(Surv(time, status) ~ trt, data = vet),
  vet_cell = survdiff(Surv(time, status) ~ celltype, data = vet),
  vet_cell_rho1 = survdiff(Surv(time, status) ~ celltype, data = vet, rho = 1),
  vet_cell_rho05 = survdiff(Surv(time, status) ~ celltype, data = vet, rho = 0.5),
  vet_trt_strata = survdiff(Surv(time, status) ~ trt + strata(celltype), data = vet),
  vet_trt_strata_rho1 = survdiff(Surv(time, status) ~ trt + strata(celltype), data = vet,
                                 rho = 1),
  lung_sex = survdiff(Surv(time, event) ~ sex, data = lung_d),
  lung_ecog = survdiff(Surv(time, event) ~ ph_ecog, data = lung_d),      # NA dropped; a group of 1
  lung_sex_strata_ecog = survdiff(Surv(time, event) ~ sex + strata(ph_ecog), data = lung_d),
  pbc_trt = survdiff(Surv(time, death) ~ trt, data = pbc_d),
  pbc_stage_strata_sex = survdiff(Surv(time, death) ~ stage + strata(sex), data = pbc_d),
  colon_rx = survdiff(Surv(time, status) ~ rx, data = colon_d[colon_d$etype == 2, ]),
  colon_rx_rho2 = survdiff(Surv(time, status) ~ rx, data = colon_d[colon_d$etype == 2, ],
                           rho = 2),
  hand_c = survdiff(Surv(time, status) ~ grp, data = hand[hand$case == "c", ]),
  hand_c_rho1 = survdiff(Surv(time, status) ~ grp, data = hand[hand$case == "c", ], rho = 1)
)
s_rows <- list()
for (name in names(tests)) {
  s <- tests[[name]]
  o <- if (is.matrix(s$obs)) rowSums(s$obs) else s$obs
  e <- if (is.matrix(s$exp)) rowSums(s$exp) else s$exp
  df <- sum(e > 0) - 1
  s_rows[[name]] <- data.frame(
    test = name, group = sub("^[^=]*=", "", names(s$n)), n = as.vector(s$n), observed = o,
    expected = e, oe2_e = (o - e)^2 / e, oe2_v = (o - e)^2 / diag(s$var), chisq = s$chisq,
    df = df, p_value = pchisq(s$chisq, df, lower.tail = FALSE),
    n_missing = if (is.null(s$na.action)) 0L else length(s$na.action))
}
wcsv(do.call(rbind, s_rows), "survdiff")
cat("fixtures written to", out, "\n")
