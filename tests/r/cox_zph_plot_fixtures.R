# Reference values for the smoothed beta(t) curves of R's plot(cox.zph(fit)) (issue 23): for each
# term, the natural spline ns(x, df = 4, intercept = TRUE) fitted by least squares to the scaled
# Schoenfeld residuals against transformed time, on nsmo = 40 points spanning the transformed event
# times, with the band yhat +- 2 sqrt(var * seval). The loop below is survival:::plot.cox.zph
# (survival 3.5-3) with the drawing removed, so R's own ns() and qr() give the numbers; the time of
# each grid point is R's approx() of the axis labels (exp() for the log transform).
# Public data from survival: lung (km, and log with strata) and veteran (identity with strata,
# rank with a factor term). Writes tests/fixtures/r/cox_zph_plot/: the data and curves.csv, full
# precision. Run from the repository root: Rscript tests/r/cox_zph_plot_fixtures.R
suppressPackageStartupMessages(library(survival))
library(splines)
out_dir <- file.path("tests", "fixtures", "r", "cox_zph_plot")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ctrl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-13)
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])
lung2$event <- as.integer(lung2$status == 2)
vet <- veteran
write.csv(lung2, file.path(out_dir, "lung.csv"), row.names = FALSE)
write.csv(vet, file.path(out_dir, "veteran.csv"), row.names = FALSE)
cases <- list(
  lung_km = list(coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung2, control = ctrl),
                 "km"),
  lung_log_strata = list(coxph(Surv(time, event) ~ age + ph.ecog + strata(sex), data = lung2,
                               control = ctrl), "log"),
  veteran_identity_strata = list(coxph(Surv(time, status) ~ trt + karno + age + strata(prior),
                                       data = vet, control = ctrl), "identity"),
  veteran_rank_factor = list(coxph(Surv(time, status) ~ karno + celltype, data = vet,
                                   control = ctrl), "rank")
)
num <- function(v) sprintf("%.17g", v)
curve <- function(x, df = 4, nsmo = 40) {  # survival:::plot.cox.zph without the drawing
  xx <- x$x
  yy <- x$y
  pred.x <- seq(from = min(xx), to = max(xx), length = nsmo)
  lmat <- ns(c(pred.x, xx), df = df, intercept = TRUE)
  pmat <- lmat[1:nsmo, ]
  xmat <- lmat[-(1:nsmo), ]
  if (x$transform == "log") {
    time <- exp(pred.x)
  } else if (x$transform == "identity") {
    time <- pred.x
  } else {
    indx <- !duplicated(xx)
    time <- approx(xx[indx], x$time[indx], pred.x)$y
  }
  rows <- list()
  for (i in seq_len(ncol(yy))) {
    y <- yy[, i]
    keep <- !is.na(y)
    qmat <- qr(xmat[keep, ])
    yhat <- pmat %*% qr.coef(qmat, y[keep])
    bk <- backsolve(qmat$qr[1:df, 1:df], diag(df))
    xtx <- bk %*% t(bk)
    seval <- ((pmat %*% xtx) * pmat) %*% rep(1, df)
    temp <- 2 * sqrt(x$var[i, i] * seval)
    rows[[i]] <- data.frame(term = colnames(yy)[i], transformed_time = num(pred.x),
                            time = num(time), estimate = num(yhat), std_error = num(temp / 2),
                            conf_low = num(yhat - temp), conf_high = num(yhat + temp))
  }
  do.call(rbind, rows)
}
out <- list()
coefs <- list()
for (nm in names(cases)) {
  f <- cases[[nm]][[1]]
  z <- cox.zph(f, transform = cases[[nm]][[2]])
  out[[nm]] <- cbind(case = nm, transform = z$transform, curve(z))
  coefs[[nm]] <- data.frame(case = nm, term = names(coef(f)), coef = num(coef(f)))
}
write.csv(do.call(rbind, out), file.path(out_dir, "curves.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, coefs), file.path(out_dir, "coef.csv"), row.names = FALSE, quote = FALSE)
