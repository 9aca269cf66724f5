# Reference values for Cox regression with exact ties (issue 23): R coxph(ties = "exact"), the
# discrete partial likelihood (coxexact.fit for right-censored data, agexact.fit for start-stop).
# Public data from survival 3.5-3: lung (days, and rounded to months for heavy ties), veteran,
# heart (start-stop; R's agexact.fit enumerates all C(n, d) subsets of a tied
# risk set, so start-stop data with larger tied groups, e.g. bladder2, do not finish in R). Writes tests/fixtures/r/cox_exact/:
# the data, coef.csv (coef, se), fit.csv (log-likelihoods, score test), martingale.csv and
# basehaz.csv (for the lung_months fit), full precision.
# Run from the repository root: Rscript tests/r/cox_exact_fixtures.R  (R 4.2, survival 3.5-3).
suppressPackageStartupMessages(library(survival))
out_dir <- file.path("tests", "fixtures", "r", "cox_exact")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ctrl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-13)
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])
lung2$event <- as.integer(lung2$status == 2)
lung2$months <- ceiling(lung2$time / 30.4375)
write.csv(lung2, file.path(out_dir, "lung.csv"), row.names = FALSE)
write.csv(veteran, file.path(out_dir, "veteran.csv"), row.names = FALSE)
write.csv(heart, file.path(out_dir, "heart.csv"), row.names = FALSE)
fits <- list(
  lung_days = coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung2, ties = "exact",
                    control = ctrl),
  lung_months = coxph(Surv(months, event) ~ age + ph.ecog + strata(sex), data = lung2,
                      ties = "exact", control = ctrl),
  veteran = coxph(Surv(time, status) ~ trt + karno + age + prior, data = veteran,
                  ties = "exact", control = ctrl),
  heart = coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart,
                ties = "exact", control = ctrl),
  heart_strata = coxph(Surv(start, stop, event) ~ age + year + transplant + strata(surgery),
                       data = heart, ties = "exact", control = ctrl)
)
num <- function(v) sprintf("%.17g", v)
coefs <- list()
fitrows <- list()
for (nm in names(fits)) {
  f <- fits[[nm]]
  coefs[[nm]] <- data.frame(case = nm, term = names(coef(f)), coef = num(coef(f)),
                            se = num(sqrt(diag(f$var))))
  fitrows[[nm]] <- data.frame(case = nm, loglik_null = num(f$loglik[1]), loglik = num(f$loglik[2]),
                              score = num(f$score), n = f$n, nevent = f$nevent)
}
write.csv(do.call(rbind, coefs), file.path(out_dir, "coef.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, fitrows), file.path(out_dir, "fit.csv"), row.names = FALSE, quote = FALSE)
f <- fits$lung_months
write.csv(data.frame(martingale = num(residuals(f, type = "martingale"))),
          file.path(out_dir, "martingale.csv"), row.names = FALSE, quote = FALSE)
bh <- basehaz(f, centered = TRUE)
write.csv(data.frame(stratum = bh$strata, time = bh$time, hazard = num(bh$hazard)),
          file.path(out_dir, "basehaz.csv"), row.names = FALSE, quote = FALSE)
