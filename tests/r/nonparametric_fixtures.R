# Reference values for analysis/survival.py and analysis/multistate.py from R.
#
# Run from the repository root:  Rscript tests/r/nonparametric_fixtures.R
# Writes inputs (<name>_data.csv) and R's outputs to tests/fixtures/r/nonparam/.
# Produced with R 4.2.2, survival 3.5-3, cmprsk 2.2-11, etm 1.1.1 (versions in versions.csv).
# All data are generated here with a fixed seed; times are integers (many ties), weights have at most
# three decimals, so the CSV inputs reproduce the data exactly.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(etm)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/fixtures/r/nonparam"
dir.create(out, recursive = TRUE, showWarnings = FALSE)
wcsv <- function(x, name) {
  write.csv(x, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
strata_of <- function(fit) {
  if (is.null(fit$strata)) rep("all", length(fit$time))
  else sub("^[^=]*=", "", rep(names(fit$strata), fit$strata))
}

wcsv(data.frame(
  package = c("R", "survival", "cmprsk", "etm"),
  version = c(R.version.string, as.character(packageVersion("survival")),
              as.character(packageVersion("cmprsk")), as.character(packageVersion("etm")))
), "versions")

# ---------------------------------------------------------------- Kaplan-Meier
km_out <- function(fit) {
  data.frame(group = strata_of(fit), time = fit$time, n_risk = fit$n.risk,
             n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv,
             std_err = fit$std.err, lower = fit$lower, upper = fit$upper)
}
set.seed(20240601)
n <- 80
km <- data.frame(id = 1:n, time = sample(1:20, n, TRUE), status = rbinom(n, 1, 0.7),
                 group = sample(c("a", "b"), n, TRUE), wint = sample(1:3, n, TRUE),
                 wdec = round(runif(n, 0.5, 2), 3))
km$entry <- sapply(km$time, function(t) sample(0:(t - 1), 1))
km$entry[1:30] <- 0   # part of the sample observed from time 0, the rest a delayed-entry stock
wcsv(km, "km_data")
wcsv(km_out(survfit(Surv(time, status) ~ 1, data = km)), "km_plain")
wcsv(km_out(survfit(Surv(time, status) ~ group, data = km)), "km_group")
wcsv(km_out(survfit(Surv(time, status) ~ 1, data = km, conf.type = "log-log")), "km_loglog")
wcsv(km_out(survfit(Surv(time, status) ~ 1, data = km, conf.type = "plain")), "km_plainci")
wcsv(km_out(survfit(Surv(entry, time, status) ~ group, data = km)), "km_entry")
wcsv(km_out(survfit(Surv(entry, time, status) ~ 1, data = km, weights = wint)), "km_entry_wint")
wcsv(km_out(survfit(Surv(entry, time, status) ~ 1, data = km, weights = wdec)), "km_entry_wdec")
wcsv(km_out(survfit(Surv(time, status) ~ group, data = km, weights = wdec)), "km_wdec_group")

# ---------------------------------------------------------------- competing risks
ms_out <- function(fit) {
  st <- fit$states
  k <- length(fit$time)
  data.frame(group = rep(strata_of(fit), length(st)),
             state = rep(st, each = k),
             time = rep(fit$time, length(st)),
             pstate = as.vector(fit$pstate), std_err = as.vector(fit$std.err),
             lower = as.vector(fit$lower), upper = as.vector(fit$upper),
             n_risk = as.vector(fit$n.risk), n_event = as.vector(fit$n.event))
}
set.seed(20240602)
n <- 150
cr <- data.frame(id = 1:n, time = sample(1:25, n, TRUE),
                 event = sample(0:3, n, TRUE, prob = c(0.3, 0.3, 0.25, 0.15)),
                 group = sample(c("g1", "g2", "g3"), n, TRUE),
                 strat = sample(c("s1", "s2"), n, TRUE),
                 w = round(runif(n, 0.3, 3), 3))
cr$entry <- sapply(cr$time, function(t) sample(0:(t - 1), 1))
cr$entry[1:60] <- 0
wcsv(cr, "cr_data")
wcsv(ms_out(survfit(Surv(time, factor(event)) ~ 1, data = cr)), "aj_plain")
wcsv(ms_out(survfit(Surv(time, factor(event)) ~ group, data = cr)), "aj_group")
wcsv(ms_out(survfit(Surv(time, factor(event)) ~ 1, data = cr, conf.type = "log-log")),
     "aj_loglog")
wcsv(ms_out(survfit(Surv(time, factor(event)) ~ 1, data = cr, conf.type = "plain")),
     "aj_plainci")
wcsv(ms_out(survfit(Surv(entry, time, factor(event)) ~ group, data = cr, id = id)), "aj_entry")
wcsv(ms_out(survfit(Surv(entry, time, factor(event)) ~ 1, data = cr, id = id, weights = w)),
     "aj_entry_w")
wcsv(ms_out(survfit(Surv(time, factor(event)) ~ group, data = cr, weights = w)), "aj_w_group")

# the same persons as several rows each (split at an inner time), with id
cut <- pmax(cr$entry + 1, floor((cr$entry + cr$time) / 2))
split <- cut < cr$time
crs <- rbind(
  data.frame(id = cr$id[split], entry = cr$entry[split], time = cut[split], event = 0,
             group = cr$group[split], w = cr$w[split]),
  data.frame(id = cr$id[split], entry = cut[split], time = cr$time[split],
             event = cr$event[split], group = cr$group[split], w = cr$w[split]),
  data.frame(id = cr$id[!split], entry = cr$entry[!split], time = cr$time[!split],
             event = cr$event[!split], group = cr$group[!split], w = cr$w[!split]))
crs <- crs[order(crs$id, crs$entry), ]
wcsv(crs, "cr_split_data")
wcsv(ms_out(survfit(Surv(entry, time, factor(event)) ~ 1, data = crs, id = id, weights = w)),
     "aj_split_w")

# Gray's test (cmprsk::cuminc)
gray_rows <- function(ci, label) {
  t <- ci$Tests
  data.frame(test = label, cause = as.integer(rownames(t)), statistic = t[, "stat"],
             p_value = t[, "pv"], df = t[, "df"])
}
g <- rbind(
  gray_rows(cuminc(cr$time, cr$event, cr$group), "group"),
  gray_rows(cuminc(cr$time, cr$event, cr$group, rho = 1), "group_rho1"),
  gray_rows(cuminc(cr$time, cr$event, cr$group, strata = cr$strat), "group_strata"),
  gray_rows(cuminc(cr$time, cr$event, cr$strat), "two_groups"))
wcsv(g, "gray")

# ---------------------------------------------------------------- multi-state
# States kh, job, edu, fp (absorbing); back-transitions kh -> job -> kh, edu -> kh/job.
# Part of the persons start in job; a stock enters with delayed entry (entry > 0).
set.seed(20240603)
nper <- 120
horizon <- 30
tr_to <- list(kh = c("job", "edu", "fp"), job = c("kh"), edu = c("kh", "job"))
tr_p <- list(kh = c(0.6, 0.25, 0.15), job = 1, edu = c(0.5, 0.5))
rows <- list()
for (i in 1:nper) {
  t <- if (i <= 50) 0 else sample(0:10, 1)
  s <- if (runif(1) < 0.8) "kh" else "job"
  w <- round(runif(1, 0.5, 2), 3)
  g <- sample(c("a", "b"), 1)
  repeat {
    stay <- sample(1:8, 1)
    stop <- t + stay
    if (stop >= horizon || runif(1) < 0.08) {  # censored (end of follow-up or drop-out)
      rows[[length(rows) + 1]] <- data.frame(id = i, tstart = t, tstop = min(stop, horizon),
                                             from = s, to = "censor", w = w, group = g)
      break
    }
    nxt <- if (length(tr_to[[s]]) == 1) tr_to[[s]] else sample(tr_to[[s]], 1, prob = tr_p[[s]])
    rows[[length(rows) + 1]] <- data.frame(id = i, tstart = t, tstop = stop, from = s,
                                           to = nxt, w = w, group = g)
    if (nxt == "fp") break
    t <- stop
    s <- nxt
  }
}
ms <- do.call(rbind, rows)
wcsv(ms, "ms_data")
states <- c("kh", "job", "edu", "fp")
ms$to_f <- factor(ms$to, levels = c("censor", states))
ms$from_f <- factor(ms$from, levels = states)
f1 <- survfit(Surv(tstart, tstop, to_f) ~ 1, data = ms, id = id, istate = from_f)
wcsv(ms_out(f1), "ms_plain")
wcsv(data.frame(state = f1$states, p0 = f1$p0), "ms_plain_p0")
wcsv(ms_out(survfit(Surv(tstart, tstop, to_f) ~ group, data = ms, id = id, istate = from_f,
                    weights = w)), "ms_group_w")
wcsv(ms_out(survfit(Surv(tstart, tstop, to_f) ~ 1, data = ms, id = id, istate = from_f,
                    p0 = c(1, 0, 0, 0))), "ms_p0_kh")
wcsv(ms_out(survfit(Surv(tstart, tstop, to_f) ~ 1, data = ms, id = id, istate = from_f,
                    weights = w, influence = TRUE)), "ms_influence_w")
wcsv(ms_out(survfit(Surv(tstart, tstop, to_f) ~ 1, data = ms, id = id, istate = from_f,
                    conf.type = "log-log")), "ms_loglog")

# etm: Aalen-Johansen transition matrices P(s, t) (estimates only; etm's variance differs)
etm_long <- function(fit, s) {
  tt <- fit$time
  est <- fit$est
  d <- expand.grid(from = dimnames(est)[[1]], to = dimnames(est)[[2]], k = seq_along(tt),
                   stringsAsFactors = FALSE)
  d$time <- tt[d$k]
  d$estimate <- est[cbind(match(d$from, dimnames(est)[[1]]), match(d$to, dimnames(est)[[2]]),
                          d$k)]
  d$s <- s
  d[, c("s", "from", "to", "time", "estimate")]
}
tra <- matrix(FALSE, 4, 4, dimnames = list(states, states))
tra["kh", c("job", "edu", "fp")] <- TRUE
tra["job", "kh"] <- TRUE
tra["edu", c("kh", "job")] <- TRUE
etm_data <- data.frame(id = ms$id, entry = ms$tstart, exit = ms$tstop, from = ms$from,
                       to = ifelse(ms$to == "censor", "cens", ms$to), stringsAsFactors = FALSE)
e0 <- etm(etm_data, states, tra, "cens", s = 0)
e5 <- etm(etm_data, states, tra, "cens", s = 5)
wcsv(rbind(etm_long(e0, 0), etm_long(e5, 5)), "etm_transition")
cat("fixtures written to", out, "\n")
