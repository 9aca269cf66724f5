# Reference values for the transition-probability matrix P(s, t) of analysis/multistate.py:
# estimates, variances and confidence intervals from R etm (Greenwood-type covariance,
# summary(etm) with ci.fun linear/log/cloglog/log-log) and from R survival::survfit multi-state
# with start.time = s and p0 = e_a (row a of P(s, t); infinitesimal-jackknife std.err).
#
# Run from the repository root:  Rscript tests/r/multistate_inference_fixtures.R
# Writes inputs (<name>_data.csv) and R's outputs to tests/fixtures/r/multistate_inference/.
# Produced with R 4.2.2, survival 3.5-3, etm 1.1.1 (versions in versions.csv).
# Data: etm's sir.cont (illness-death with recovery, ties) and abortion (competing risks with
# left truncation, two groups), survival's mgus2 made multi-state as in survival's "compete"
# vignette (MGUS -> PCM -> death, two groups), and the simulated ms_data of
# tests/r/nonparametric_fixtures.R (delayed entry, back-transitions, weights, groups).
# The start times s are chosen between event times: survfit(start.time = s) keeps rows with
# exit >= s and so would count a transition at exactly s, which P(s, t) excludes.

suppressPackageStartupMessages({
  library(survival)
  library(etm)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/fixtures/r/multistate_inference"
dir.create(out, recursive = TRUE, showWarnings = FALSE)
wcsv <- function(x, name) {
  write.csv(x, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
wcsv(data.frame(
  package = c("R", "survival", "etm"),
  version = c(R.version.string, as.character(packageVersion("survival")),
              as.character(packageVersion("etm")))
), "versions")

# keep about 25 event times per case (all entries at those times), to keep the fixtures small
thin <- function(res) {
  tt <- sort(unique(res$time))
  keep <- tt[unique(round(seq(1, length(tt), length.out = min(25, length(tt)))))]
  res[res$time %in% keep, ]
}

# ---------------------------------------------------------------- etm: Greenwood-type variance
# All entries of P(s, t) from transient states at every event time in (s, t]: estimate, var and the CI of
# summary(etm) for each ci.fun.
etm_long <- function(fit, s, label) {
  st <- fit$state.names
  transient <- st[st %in% as.character(fit$trans$from)]  # rows of absorbing states are e_a
  trs <- as.vector(outer(transient, st, paste))
  res <- NULL
  for (fun in c("linear", "log", "cloglog", "log-log")) {
    sm <- summary(fit, tr.choice = trs, ci.fun = fun)
    for (tr in trs) {
      x <- sm[[tr]]
      ft <- strsplit(tr, " ")[[1]]
      res <- rbind(res, data.frame(case = label, s = s, ci = fun, from = ft[1], to = ft[2],
                                   time = x$time, estimate = x$P, var = x$var,
                                   lower = x$lower, upper = x$upper))
    }
  }
  thin(res)
}

# sir.cont: ties of two transitions of one person at the same time are separated by 0.5 days
# (as in etm's vignette); entry = previous exit of the person.
data(sir.cont)
sir <- sir.cont[order(sir.cont$id, sir.cont$time), ]
for (i in 2:nrow(sir)) {
  if (sir$id[i] == sir$id[i - 1] && sir$time[i] == sir$time[i - 1]) {
    sir$time[i - 1] <- sir$time[i - 1] - 0.5
  }
}
first <- c(TRUE, sir$id[-1] != sir$id[-nrow(sir)])
sir$entry <- ifelse(first, 0, c(0, sir$time[-nrow(sir)]))
sir$exit <- sir$time
sir_data <- data.frame(id = sir$id, entry = sir$entry, exit = sir$exit,
                       from = as.character(sir$from), to = as.character(sir$to),
                       sex = as.character(sir$sex), stringsAsFactors = FALSE)
wcsv(sir_data, "sir_data")
tra_sir <- matrix(FALSE, 3, 3, dimnames = list(c("0", "1", "2"), c("0", "1", "2")))
tra_sir[1, 2:3] <- TRUE
tra_sir[2, c(1, 3)] <- TRUE
etm_sir <- rbind(
  etm_long(etm(sir_data, c("0", "1", "2"), tra_sir, "cens", s = 0), 0, "sir"),
  etm_long(etm(sir_data, c("0", "1", "2"), tra_sir, "cens", s = 10.25), 10.25, "sir"),
  etm_long(etm(sir_data[sir_data$sex == "F", ], c("0", "1", "2"), tra_sir, "cens", s = 3.25),
           3.25, "sir_F"))
wcsv(etm_sir, "etm_sir")

# abortion: competing risks (0 -> 1 induced, 2 live birth, 3 spontaneous), entry = week of
# study entry (left truncation), two groups.
data(abortion)
ab <- data.frame(id = abortion$id, entry = abortion$entry, exit = abortion$exit,
                 from = "0", to = as.character(abortion$cause), group = abortion$group,
                 stringsAsFactors = FALSE)
wcsv(ab, "abortion_data")
tra_ab <- matrix(FALSE, 4, 4, dimnames = list(as.character(0:3), as.character(0:3)))
tra_ab[1, 2:4] <- TRUE
st_ab <- as.character(0:3)
etm_ab <- rbind(
  etm_long(etm(ab[ab$group == 0, ], st_ab, tra_ab, NULL, s = 0), 0, "abortion_0"),
  etm_long(etm(ab[ab$group == 1, ], st_ab, tra_ab, NULL, s = 0), 0, "abortion_1"),
  etm_long(etm(ab[ab$group == 1, ], st_ab, tra_ab, NULL, s = 20.5), 20.5, "abortion_1"))
wcsv(etm_ab, "etm_abortion")

# ---------------------------------------------------------------- survfit: IJ std.err of P(s, t)
# Row a of P(s, t) = survfit(..., start.time = s, p0 = e_a)$pstate (and std.err).
# (data columns id, from_f and, if weighted, w)
ij_rows <- function(formula, data, s, label, states, weighted = FALSE, conf = "log") {
  res <- NULL
  for (a in states) {
    p0 <- as.numeric(states == a)
    fit <- if (weighted) {
      survfit(formula, data = data, id = id, istate = from_f, weights = w, start.time = s,
              p0 = p0, conf.type = conf)
    } else {
      survfit(formula, data = data, id = id, istate = from_f, start.time = s, p0 = p0,
              conf.type = conf)
    }
    stopifnot(identical(fit$states, states))
    grp <- if (is.null(fit$strata)) rep("all", length(fit$time))
           else sub("^[^=]*=", "", rep(names(fit$strata), fit$strata))
    k <- length(fit$time)
    for (j in seq_along(states)) {
      res <- rbind(res, data.frame(case = label, s = s, group = grp, from = a,
                                   to = states[j], time = fit$time,
                                   estimate = fit$pstate[, j], std_err = fit$std.err[, j],
                                   lower = fit$lower[, j], upper = fit$upper[, j]))
    }
  }
  thin(res)
}

# mgus2 as in survival's vignette: MGUS -> PCM -> death and MGUS -> death, time in months.
# A PCM at the last follow-up time is moved 0.1 month earlier (vignette).
ptemp <- with(mgus2, ifelse(ptime == futime & pstat == 1, ptime - .1, ptime))
d3 <- tmerge(mgus2[, c("id", "sex")], mgus2, id = id, death = event(futime, death),
             pcm = event(ptemp, pstat))
d3 <- tmerge(d3, d3, id, enum = cumtdc(tstart))
ev <- with(d3, ifelse(death == 1, 2, pcm))
mg <- data.frame(id = d3$id, tstart = d3$tstart, tstop = d3$tstop,
                 from = ifelse(d3$enum == 1, "mgus", "pcm"),
                 to = c("censor", "pcm", "death")[ev + 1], sex = as.character(d3$sex),
                 stringsAsFactors = FALSE)
wcsv(mg, "mgus2_data")
st_mg <- c("mgus", "pcm", "death")
mg$to_f <- factor(mg$to, levels = c("censor", st_mg))
mg$from_f <- factor(mg$from, levels = st_mg)
ij_mg <- rbind(
  ij_rows(Surv(tstart, tstop, to_f) ~ 1, mg, 0, "mgus2", st_mg),
  ij_rows(Surv(tstart, tstop, to_f) ~ sex, mg, 60.25, "mgus2_sex", st_mg, conf = "log-log"))
wcsv(ij_mg, "ij_mgus2")
# etm on the same data (Greenwood), s = 60.25, men
mg_etm <- data.frame(id = mg$id, entry = mg$tstart, exit = mg$tstop, from = mg$from,
                     to = ifelse(mg$to == "censor", "cens", mg$to), sex = mg$sex,
                     stringsAsFactors = FALSE)
tra_mg <- matrix(FALSE, 3, 3, dimnames = list(st_mg, st_mg))
tra_mg["mgus", c("pcm", "death")] <- TRUE
tra_mg["pcm", "death"] <- TRUE
wcsv(etm_long(etm(mg_etm[mg_etm$sex == "M", ], st_mg, tra_mg, "cens", s = 60.25), 60.25,
              "mgus2_M"), "etm_mgus2")

# ms_data (tests/fixtures/r/nonparam): delayed entry, back-transitions, non-integer weights
ms <- read.csv("tests/fixtures/r/nonparam/ms_data.csv", stringsAsFactors = FALSE)
wcsv(ms, "ms_data")
st_ms <- c("kh", "job", "edu", "fp")
ms$to_f <- factor(ms$to, levels = c("censor", st_ms))
ms$from_f <- factor(ms$from, levels = st_ms)
ij_ms <- rbind(
  ij_rows(Surv(tstart, tstop, to_f) ~ 1, ms, 4.5, "ms", st_ms),
  ij_rows(Surv(tstart, tstop, to_f) ~ group, ms, 10.5, "ms_group_w", st_ms, weighted = TRUE,
          conf = "plain"))
wcsv(ij_ms, "ij_ms")

# missing values: from/tstart/w set missing in some rows of ms_data. Our rule drops the rows; a
# change of state across the gap a dropped row leaves is accepted (the person re-enters in the
# state of the next row). survfit refuses such a history (survcheck "jump"), so the reference is
# the same data without those rows and with the rows after each gap under a new id (same
# estimates and numbers at risk; standard errors differ by the clustering).
msm <- read.csv("tests/fixtures/r/nonparam/ms_data.csv", stringsAsFactors = FALSE)
msm <- msm[order(msm$id, msm$tstart), ]
rank <- ave(msm$tstart, msm$id, FUN = seq_along)
nrow_id <- ave(msm$tstart, msm$id, FUN = length)
long <- which(rank == 2 & nrow_id >= 3)
msm$from[long[1:6]] <- NA
msm$tstart[long[7:9]] <- NA
msm$w[which(rank == nrow_id & nrow_id >= 2)[1:4]] <- NA
wcsv(msm, "ms_missing_data")
dropped <- !complete.cases(msm[, c("id", "tstart", "tstop", "from", "w")])
seg <- ave(as.numeric(dropped), msm$id, FUN = cumsum)
kept <- msm[!dropped, ]
kept$id <- kept$id + 10000 * seg[!dropped]
kept$to_f <- factor(kept$to, levels = c("censor", st_ms))
kept$from_f <- factor(kept$from, levels = st_ms)
fm <- survfit(Surv(tstart, tstop, to_f) ~ 1, data = kept, id = id, istate = from_f, weights = w)
wcsv(data.frame(state = rep(fm$states, each = length(fm$time)),
                time = rep(fm$time, length(fm$states)), pstate = as.vector(fm$pstate),
                n_risk = as.vector(fm$n.risk)), "ms_missing")

# sir.cont with survfit (IJ) at s = 10.25 (states 0, 1, 2)
sir_data$to_f <- factor(ifelse(sir_data$to == "cens", "censor", sir_data$to),
                        levels = c("censor", "0", "1", "2"))
sir_data$from_f <- factor(sir_data$from, levels = c("0", "1", "2"))
wcsv(ij_rows(Surv(entry, exit, to_f) ~ 1, sir_data, 10.25, "sir", c("0", "1", "2")), "ij_sir")
cat("fixtures written to", out, "\n")
