# Reference values for analysis/transitions (issue 7) from R.
#
# Run from the repository root:  Rscript tests/r/transitions_fixtures.R
# Reads tests/fixtures/r/transitions/months.csv (person-months of 220 members of a tiny synthetic
# 2018Q1 cohort: id, month_index, state, next_state, seniority_months at the month, group =
# seniority group at entry) and hh.csv / mn.csv; writes R's outputs next to them.
#
# 1. Multi-state Aalen-Johansen state occupation from kh with survival::survfit (multi-state,
#    counting-process data, id=, istate=, p0 = all in kh), on the seniority time scale (delayed
#    entry at the seniority of the first month) and on months since entry, whole cohort and group
#    "lt1". The sojourn intervals are built here, in R, from the month rows (independently of
#    analysis.transitions.frames.sojourns): month m of a person covers (t0 + m - 1, t0 + m].
# 2. Multinomial logit (nnet::multinom, reference = first level) on mn.csv: coefficients,
#    model-based standard errors (inverse Hessian) and the log-likelihood.
suppressPackageStartupMessages({
  library(survival)
  library(nnet)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/fixtures/r/transitions"
wcsv <- function(x, name) write.csv(x, file.path(out, paste0(name, ".csv")), row.names = FALSE)

m <- read.csv(file.path(out, "months.csv"), stringsAsFactors = FALSE, na.strings = c("", "NA"))
m <- m[order(m$id, m$month_index), ]
states <- c("kh", "job", "fp", "rf", "fj", "edu", "self_support", "other_benefit",
            "dead_or_emigrated")

sojourns <- function(m, scale) {
  rows <- list()
  for (pid in unique(m$id)) {
    p <- m[m$id == pid, ]
    t0 <- if (scale == "seniority") p$seniority_months[1] else 0
    r <- rle(p$state)
    ends <- cumsum(r$lengths)
    starts <- ends - r$lengths + 1
    for (k in seq_along(ends)) {
      nxt <- p$next_state[ends[k]]
      to <- if (!is.na(nxt) && nxt != r$values[k]) nxt else "censor"
      rows[[length(rows) + 1]] <- data.frame(
        id = pid, entry = t0 + p$month_index[starts[k]] - 1, exit = t0 + p$month_index[ends[k]],
        from = r$values[k], to = to, group = p$group[1], stringsAsFactors = FALSE)
    }
  }
  do.call(rbind, rows)
}

occupation <- function(s, label, scale) {
  s$to <- factor(s$to, levels = c("censor", states))
  s$from <- factor(s$from, levels = states)
  p0 <- c(1, rep(0, length(states) - 1))
  f <- survfit(Surv(entry, exit, to) ~ 1, data = s, id = id, istate = from, p0 = p0)
  st <- f$states
  nt <- length(f$time)
  data.frame(
    group = label, time_scale = scale,
    time = rep(f$time, times = length(st)),
    state = rep(ifelse(st == "(s0)", "kh", st), each = nt),
    estimate = as.vector(f$pstate), std_error = as.vector(f$std.err),
    n_risk = rep(rowSums(f$n.risk), times = length(st)),
    stringsAsFactors = FALSE)
}

res <- list()
for (scale in c("seniority", "entry")) {
  s <- sojourns(m, scale)
  res[[length(res) + 1]] <- occupation(s, "all", scale)
  res[[length(res) + 1]] <- occupation(s[s$group == "lt1", ], "lt1", scale)
}
wcsv(do.call(rbind, res), "occupation_survfit")

mn <- read.csv(file.path(out, "mn.csv"), stringsAsFactors = FALSE)
mn$y <- factor(mn$y, levels = c("stay", "a", "b", "c"))
fit <- multinom(y ~ x1 + x2 + g, data = mn, trace = FALSE, maxit = 1000, reltol = 1e-14,
                abstol = 1e-14, Hess = TRUE)
cf <- coef(fit)
se <- sqrt(diag(solve(fit$Hessian)))
terms <- colnames(cf)
outc <- data.frame(
  destination = rep(rownames(cf), times = ncol(cf)),
  term = rep(ifelse(terms == "(Intercept)", "intercept", terms), each = nrow(cf)),
  estimate = as.vector(cf), stringsAsFactors = FALSE)
# Hessian parameter order is destination-major: b:(Intercept), b:x1, ...
hn <- colnames(fit$Hessian)
key <- paste0(outc$destination, ":", ifelse(outc$term == "intercept", "(Intercept)", outc$term))
outc$std_error <- se[match(key, hn)]
outc$loglik <- as.numeric(logLik(fit))
wcsv(outc, "multinom_nnet")
cat("R", R.version.string, "survival", as.character(packageVersion("survival")),
    "nnet", as.character(packageVersion("nnet")), "\n")
