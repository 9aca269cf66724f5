# Reference values for analysis.competing_risks.FineGray beyond tests/r/cox_inference_fixtures.R:
# censoring strata in both reference computations (cmprsk::crr(cengroup=) and
# survival::finegray(strata()) + coxph), Breslow ties, delayed entry, and SE / CI of predicted
# cumulative incidences with the robust and the model-based variance.
#
# Public data: survival 3.5-3 mgus2 (progression to plasma-cell malignancy = cause 1, death
# before progression = cause 2). Writes tests/fixtures/r/finegray_inference/mgus2.csv (17
# significant digits) and results.json. Run from the repository root:
#   Rscript tests/r/finegray_inference_fixtures.R
# Produced with R 4.2, survival 3.5-3, cmprsk 2.2. CI has no R: commit the outputs.

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})

out_dir <- file.path("tests", "fixtures", "r", "finegray_inference")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ctrl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-13)

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
  if (is.character(x)) {
    v <- paste0('"', x, '"')
  } else {
    v <- ifelse(is.finite(x), sprintf("%.17g", x), "null")
  }
  if (length(x) == 1) return(v)
  paste0("[", paste(v, collapse = ", "), "]")
}

m <- function(x) unname(as.matrix(x))
cases <- list()

mg <- mgus2
mg$etime <- with(mg, ifelse(pstat == 0, futime, ptime))
mg$event <- with(mg, ifelse(pstat == 0, 2 * death, 1))
mg$male <- as.integer(mg$sex == "M")
# a delayed entry (left truncation) for the entry case: a deterministic fraction of the time
mg$entry <- floor(mg$etime * ((mg$id %% 5) / 10))
mg$agegrp <- ifelse(mg$age < 70, "young", "old")
mg <- mg[, c("id", "etime", "event", "entry", "age", "male", "sex", "agegrp", "hgb")]
out <- mg
for (k in names(out)) if (is.numeric(out[[k]])) out[[k]] <- ifelse(is.na(out[[k]]), NA, sprintf("%.17g", out[[k]]))
write.csv(out, file.path(out_dir, "mgus2.csv"), row.names = FALSE, na = "")

cc <- mg[complete.cases(mg[, c("etime", "event", "age", "male", "hgb")]), ]
cc$ev <- factor(cc$event, 0:2, labels = c("censor", "pcm", "death"))
nd <- data.frame(age = c(60, 80), male = c(0, 1), hgb = c(13, 11))
tt <- c(12, 60, 120, 240, 400)

# ---- cmprsk::crr, with and without censoring groups --------------------------------------------
X <- as.matrix(cc[, c("age", "male", "hgb")])
crr_case <- function(fit) {
  list(coef = unname(fit$coef), se = unname(sqrt(diag(fit$var))), loglik = fit$loglik,
       loglik_null = fit$loglik.null)
}
cases$crr <- crr_case(crr(cc$etime, cc$event, X, failcode = 1, cencode = 0))
cases$crr_cengroup_sex <- crr_case(crr(cc$etime, cc$event, X, failcode = 1, cencode = 0,
                                      cengroup = cc$sex))
cases$crr_cengroup_agegrp <- crr_case(crr(cc$etime, cc$event, X, failcode = 1, cencode = 0,
                                         cengroup = cc$agegrp))

# ---- finegray + coxph ----------------------------------------------------------------------------
fg_case <- function(pdata, ties, cluster = TRUE) {
  if (cluster) {
    fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ age + male + hgb, weights = fgwt,
                 cluster = id, data = pdata, ties = ties, control = ctrl)
  } else {
    fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ age + male + hgb, weights = fgwt,
                 data = pdata, ties = ties, robust = FALSE, control = ctrl)
  }
  s <- summary(survfit(fit, newdata = nd), times = tt, extend = TRUE)
  s_plain <- summary(survfit(fit, newdata = nd, conf.type = "plain"), times = tt, extend = TRUE)
  list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
       naive_se = if (cluster) unname(sqrt(diag(fit$naive.var))) else NULL,
       loglik = unname(fit$loglik),
       cif = list(times = tt, surv = m(s$surv), std_err = m(s$std.err), lower = m(s$lower),
                  upper = m(s$upper), plain_lower = m(s_plain$lower),
                  plain_upper = m(s_plain$upper)))
}
pd <- finegray(Surv(etime, ev) ~ ., data = cc, etype = "pcm")
cases$fg_breslow <- fg_case(pd, "breslow")
cases$fg_efron_model <- fg_case(pd, "efron", cluster = FALSE)
pd <- finegray(Surv(etime, ev) ~ . + strata(sex), data = cc, etype = "pcm")
cases$fg_strata_sex_breslow <- fg_case(pd, "breslow")
pd <- finegray(Surv(etime, ev) ~ . + strata(agegrp), data = cc, etype = "pcm")
cases$fg_strata_agegrp_efron <- fg_case(pd, "efron")
pd <- finegray(Surv(entry, etime, ev) ~ . + strata(sex), data = cc, etype = "pcm", id = id)
cases$fg_entry_strata_sex_efron <- fg_case(pd, "efron")

meta <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
             cmprsk = as.character(packageVersion("cmprsk")), n_missing = nrow(mg) - nrow(cc))
writeLines(json_value(list(meta = meta, cases = cases)), file.path(out_dir, "results.json"))
cat("wrote", length(cases), "cases to", out_dir, "\n")
