# Reference values for the Cox robust score test and the Wald test (issue 23), full precision.
# Public data from survival 3.5-3 (lung, heart). Writes tests/fixtures/r/cox_robust/tests.csv:
# one row per case and test (wald = fit$wald.test, robust_score = fit$rscore, score = fit$score).
# Run from the repository root: Rscript tests/r/cox_robust_fixtures.R  (R 4.2, survival 3.5-3).
suppressPackageStartupMessages(library(survival))
out_dir <- file.path("tests", "fixtures", "r", "cox_robust")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ctrl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-13)
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog", "inst")])
lung2$event <- as.integer(lung2$status == 2)
lung2$w <- 1 + (seq_len(nrow(lung2)) %% 3) / 2
write.csv(lung2, file.path(out_dir, "lung.csv"), row.names = FALSE)
write.csv(heart, file.path(out_dir, "heart.csv"), row.names = FALSE)
fits <- list(
  lung_cluster_inst = coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung2,
                            cluster = inst, control = ctrl),
  lung_robust = coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung2, robust = TRUE,
                      control = ctrl),
  lung_weighted = coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung2, weights = w,
                        robust = TRUE, control = ctrl),
  lung_model = coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung2, control = ctrl),
  heart_cluster_id = coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
                           data = heart, cluster = id, control = ctrl)
)
rows <- list()
for (nm in names(fits)) {
  f <- fits[[nm]]
  df <- length(coef(f))
  add <- function(test, s) data.frame(case = nm, test = test, statistic = sprintf("%.17g", s),
                                      df = df, p_value = sprintf("%.17g", pchisq(s, df, lower.tail = FALSE)))
  rows[[length(rows) + 1]] <- add("wald", f$wald.test)
  rows[[length(rows) + 1]] <- add("score", f$score)
  if (!is.null(f$rscore)) rows[[length(rows) + 1]] <- add("robust_score", f$rscore)
}
write.csv(do.call(rbind, rows), file.path(out_dir, "tests.csv"), row.names = FALSE, quote = FALSE)
