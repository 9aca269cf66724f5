# Reference values for analysis.cox / analysis.competing_risks, computed with R.
#
# Produces deterministic datasets and R's results in tests/fixtures/r/regression/:
#   cox_right.csv, cox_startstop.csv, fg.csv     data (covariates rounded so CSV is exact)
#   results.json                                  one entry per case (see `cases` below)
# Run from the repository root:  Rscript tests/r/regression_fixtures.R
# Produced with R 4.2, survival 3.5-3, cmprsk 2.2-11. CI has no R: commit the outputs.
#
# All models are iterated to full convergence (coxph eps = 1e-10, crr gtol = 1e-10) so that the
# reference values do not depend on R's stopping rules.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

out_dir <- file.path("tests", "fixtures", "r", "regression")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ctrl <- coxph.control(eps = 1e-10, iter.max = 100)

# ---- minimal JSON writer (no jsonlite on the build machine) ---------------------------------
json_value <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x)) && all(names(x) != "")) {
      items <- vapply(names(x), function(k) paste0('"', k, '": ', json_value(x[[k]])), "")
      return(paste0("{", paste(items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(x, json_value, ""), collapse = ", "), "]"))
  }
  if (is.matrix(x)) {
    rows <- lapply(seq_len(nrow(x)), function(i) x[i, ])
    return(paste0("[", paste(vapply(rows, function(r) json_value(unname(r)), ""), collapse = ", "), "]"))
  }
  if (is.character(x) || is.factor(x)) {
    v <- paste0('"', as.character(x), '"')
  } else if (is.logical(x)) {
    v <- ifelse(x, "true", "false")
  } else {
    v <- ifelse(is.finite(x), sprintf("%.17g", x), "null")
  }
  if (length(x) == 1 && is.null(names(x))) return(v)
  paste0("[", paste(v, collapse = ", "), "]")
}

cases <- list()
add_case <- function(name, value) cases[[name]] <<- value

# ---- datasets ---------------------------------------------------------------------------------
set.seed(20220601)
n <- 240
cox_right <- data.frame(
  id = seq_len(n),
  x1 = round(rnorm(n), 4),
  x2 = rbinom(n, 1, 0.45),
  grp = sample(c("a", "b", "c"), n, replace = TRUE),
  w = round(runif(n, 0.5, 2), 3),
  s = sample(c("s1", "s2"), n, replace = TRUE),
  cl = sample(sprintf("c%02d", 1:80), n, replace = TRUE)
)
lin <- 0.5 * cox_right$x1 - 0.4 * cox_right$x2 + c(a = 0, b = 0.3, c = -0.5)[cox_right$grp]
tt <- rexp(n, 0.05 * exp(lin))
cc <- rexp(n, 0.02)
cox_right$time <- ceiling(pmin(tt, cc))       # integer days: many ties
cox_right$status <- as.integer(tt <= cc)
write.csv(cox_right, file.path(out_dir, "cox_right.csv"), row.names = FALSE)

# start-stop: 150 subjects, 1-4 intervals, time-varying z, delayed entry for some
ns <- 150
rows <- list()
for (i in seq_len(ns)) {
  k <- sample(1:4, 1)
  entry <- if (runif(1) < 0.35) sample(1:10, 1) else 0
  lens <- sample(2:12, k, replace = TRUE)
  cuts <- entry + cumsum(c(0, lens))
  x <- round(rnorm(1), 4)
  sex <- sample(c("F", "M"), 1)
  z <- round(rnorm(k, mean = 0.3 * x), 4)
  haz <- 0.04 * exp(0.6 * z + 0.4 * x + 0.3 * (sex == "M"))
  status <- rep(0L, k)
  stop <- cuts[-1]
  for (j in seq_len(k)) {  # event within the interval?
    te <- rexp(1, haz[j])
    if (te < lens[j]) {
      stop[j] <- cuts[j] + max(1, ceiling(te))
      status[j] <- 1L
      k <- j
      break
    }
  }
  rows[[i]] <- data.frame(
    id = i, start = cuts[seq_len(k)], stop = stop[seq_len(k)], status = status[seq_len(k)],
    z = z[seq_len(k)], x = x, sex = sex, w = round(runif(1, 0.5, 2), 3),
    s = sample(c("A", "B"), 1)
  )
}
cox_ss <- do.call(rbind, rows)
write.csv(cox_ss, file.path(out_dir, "cox_startstop.csv"), row.names = FALSE)

# competing risks: one row per subject, causes 1 and 2
nf <- 400
fg <- data.frame(
  id = seq_len(nf),
  x1 = round(rnorm(nf), 4),
  x2 = rbinom(nf, 1, 0.4),
  grp = sample(c("a", "b", "c"), nf, replace = TRUE),
  w = round(runif(nf, 0.5, 2), 3)
)
t1 <- rexp(nf, 0.06 * exp(0.5 * fg$x1 + 0.3 * (fg$grp == "b")))
t2 <- rexp(nf, 0.04 * exp(-0.4 * fg$x2))
tc <- rexp(nf, 0.03)
tm <- pmin(t1, t2, tc)
fg$ev <- ifelse(tm == tc, 0L, ifelse(tm == t1, 1L, 2L))
fg$time <- ceiling(tm * 2) / 2                 # half-day grid: ties between all kinds
fg$time_c <- round(tm, 6) + 1e-4 * seq_len(nf) / nf  # no ties
fg$entry <- ifelse(runif(nf) < 0.4, floor(runif(nf) * fg$time * 2) / 2, 0)
fg$entry <- pmin(fg$entry, fg$time - 0.5)
fg$entry[fg$entry < 0] <- 0
write.csv(fg, file.path(out_dir, "fg.csv"), row.names = FALSE)
cox_right <- read.csv(file.path(out_dir, "cox_right.csv"))
cox_ss <- read.csv(file.path(out_dir, "cox_startstop.csv"))
fg <- read.csv(file.path(out_dir, "fg.csv"))

# ---- helpers ----------------------------------------------------------------------------------
cox_summary <- function(fit) {
  list(
    terms = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$var))),
    naive_se = unname(sqrt(diag(if (is.null(fit$naive.var)) fit$var else fit$naive.var))),
    loglik = unname(fit$loglik),
    means = unname(fit$means),
    n_events = fit$nevent
  )
}
zph_table <- function(z) {
  list(term = rownames(z$table), chisq = unname(z$table[, "chisq"]),
       df = unname(z$table[, "df"]), p = unname(z$table[, "p"]))
}
basehaz_list <- function(fit) {
  b1 <- basehaz(fit, centered = TRUE)
  b0 <- basehaz(fit, centered = FALSE)
  out <- list(time = b1$time, centered = b1$hazard, uncentered = b0$hazard)
  if (!is.null(b1$strata)) out$strata <- as.character(b1$strata)
  out
}
surv_at <- function(fit, newdata, times) {
  sf <- survfit(fit, newdata = newdata)
  ss <- summary(sf, times = times, extend = TRUE)
  m <- matrix(ss$surv, nrow = length(times))   # rows = times, cols = profiles
  list(times = times, surv = m)
}
new_right <- data.frame(x1 = c(0, 1.2, -0.7), x2 = c(0, 1, 0), grp = c("a", "b", "c"),
                        s = c("s1", "s2", "s1"))
times_right <- c(1, 3, 8, 15, 30)

# ---- Cox, right-censored ------------------------------------------------------------------------
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(time, status) ~ x1 + x2 + grp, data = cox_right, ties = ties, control = ctrl)
  z_km <- cox.zph(f)
  add_case(paste0("right_", ties), c(cox_summary(f), list(
    basehaz = basehaz_list(f),
    surv = surv_at(f, new_right, times_right),
    lp_centered = unname(predict(f, newdata = new_right, type = "lp")),
    zph_km = zph_table(z_km),
    zph_identity = zph_table(cox.zph(f, transform = "identity")),
    zph_rank = zph_table(cox.zph(f, transform = "rank")),
    zph_km_columns = zph_table(cox.zph(f, terms = FALSE)),
    zph_y = list(time = unname(z_km$time), x = unname(z_km$x), y = unname(z_km$y))
  )))
}
f <- coxph(Surv(time, status) ~ x1 + x2 + grp, data = cox_right, weights = w, control = ctrl)
add_case("right_weighted", c(cox_summary(f), list(
  basehaz = basehaz_list(f), surv = surv_at(f, new_right, times_right),
  zph_km = zph_table(cox.zph(f)))))

f <- coxph(Surv(time, status) ~ x1 + x2 + grp + strata(s), data = cox_right, weights = w,
           cluster = cl, control = ctrl)
add_case("right_strata_cluster", c(cox_summary(f), list(
  basehaz = basehaz_list(f), surv = surv_at(f, new_right, times_right),
  zph_km = zph_table(cox.zph(f)))))

f <- coxph(Surv(time, status) ~ x1 + x2 + grp, data = cox_right, robust = TRUE,
           ties = "breslow", control = ctrl)
add_case("right_robust_rows", cox_summary(f))

# ---- Cox, start-stop ----------------------------------------------------------------------------
new_ss <- data.frame(z = c(0, 0.5), x = c(0, -1), sex = c("F", "M"), s = c("A", "B"))
times_ss <- c(3, 10, 20, 35)
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(start, stop, status) ~ z + x + sex, data = cox_ss, cluster = id,
             ties = ties, control = ctrl)
  add_case(paste0("ss_", ties, "_cluster"), c(cox_summary(f), list(
    basehaz = basehaz_list(f), surv = surv_at(f, new_ss, times_ss),
    zph_km = zph_table(cox.zph(f)), zph_identity = zph_table(cox.zph(f, transform = "identity")))))
}
f <- coxph(Surv(start, stop, status) ~ z + x + sex + strata(s), data = cox_ss, weights = w,
           cluster = id, control = ctrl)
add_case("ss_weighted_strata", c(cox_summary(f), list(
  basehaz = basehaz_list(f), surv = surv_at(f, new_ss, times_ss),
  zph_km = zph_table(cox.zph(f)))))

# ---- cause-specific Cox (delayed entry, cluster) ----------------------------------------------
f <- coxph(Surv(entry, time, ev == 1) ~ x1 + x2 + grp, data = fg, cluster = id, control = ctrl)
add_case("cause_specific_1", cox_summary(f))

# ---- Fine-Gray: cmprsk::crr ---------------------------------------------------------------------
X <- model.matrix(~ x1 + x2 + grp, data = fg)[, -1]
new_fg <- data.frame(x1 = c(0, 1), x2 = c(0, 1), grp = c("a", "b"))
Xnew <- model.matrix(~ x1 + x2 + grp, data = transform(new_fg, grp = factor(grp, levels = c("a", "b", "c"))))[, -1]
crr_case <- function(time, failcode) {
  f <- crr(time, fg$ev, X, failcode = failcode, gtol = 1e-10, maxiter = 100)
  stopifnot(f$converged)
  p <- predict(f, Xnew)
  list(terms = names(f$coef), coef = unname(f$coef), se = unname(sqrt(diag(f$var))),
       loglik = f$loglik, loglik_null = f$loglik.null, uftime = f$uftime, bfitj = f$bfitj,
       predict_time = p[, 1], predict_cif = unname(p[, -1, drop = FALSE]))
}
add_case("crr_ties_cause1", crr_case(fg$time, 1))
add_case("crr_ties_cause2", crr_case(fg$time, 2))
add_case("crr_noties_cause1", crr_case(fg$time_c, 1))

# ---- Fine-Gray: survival::finegray + coxph --------------------------------------------------------
fg$evf <- factor(fg$ev, levels = 0:2, labels = c("cens", "one", "two"))
fg_case <- function(fgdata, ties, weighted) {
  f <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + x2 + grp, data = fgdata, weights = fgwt,
             cluster = id, ties = ties, control = ctrl)
  sf <- survfit(f, newdata = new_fg)
  ss <- summary(sf, times = c(2, 5, 10, 20), extend = TRUE)
  c(cox_summary(f), list(cif_times = c(2, 5, 10, 20),
                         cif = 1 - matrix(ss$surv, nrow = 4)))
}
d_entry <- finegray(Surv(entry, time, evf) ~ x1 + x2 + grp + id, data = fg, etype = "one", id = id)
add_case("fg_entry_breslow", fg_case(d_entry, "breslow"))
add_case("fg_entry_efron", fg_case(d_entry, "efron"))
d_w <- finegray(Surv(time, evf) ~ x1 + x2 + grp + id, data = fg, etype = "one", weights = w)
add_case("fg_weights_breslow", fg_case(d_w, "breslow"))
d_plain <- finegray(Surv(time, evf) ~ x1 + x2 + grp + id, data = fg, etype = "one")
add_case("fg_plain_efron", fg_case(d_plain, "efron"))

# ---- write ---------------------------------------------------------------------------------
meta <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
             cmprsk = as.character(packageVersion("cmprsk")))
writeLines(json_value(list(meta = meta, cases = cases)), file.path(out_dir, "results.json"))
cat("wrote", length(cases), "cases to", out_dir, "\n")
