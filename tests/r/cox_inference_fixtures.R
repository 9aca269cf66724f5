# Reference values for the Cox / Fine-Gray inference of analysis.cox and analysis.competing_risks:
# concordance, score / likelihood-ratio / Wald tests, residuals, SE and CI of predicted survival
# curves and cumulative incidences, Fine-Gray censoring strata, and missing-value counts.
#
# Public data from survival 3.5-3: lung, veteran, heart (start-stop), mgus2. Writes to
# tests/fixtures/r/cox_inference/: the datasets (<name>.csv, 17 significant digits so the CSV is
# exact) and results.json (one entry per case). Run from the repository root:
#   Rscript tests/r/cox_inference_fixtures.R
# Produced with R 4.2, survival 3.5-3. CI has no R: commit the outputs.

suppressPackageStartupMessages(library(survival))

out_dir <- file.path("tests", "fixtures", "r", "cox_inference")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
ctrl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-13)

# ---- minimal JSON writer (no jsonlite on the build machine) ---------------------------------
json_value <- function(x) {
  if (is.null(x)) return("null")
  if (is.data.frame(x)) x <- as.list(x)
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

write_exact <- function(df, name) {
  out <- df
  for (k in names(out)) {
    if (is.numeric(out[[k]])) out[[k]] <- ifelse(is.na(out[[k]]), NA, sprintf("%.17g", out[[k]]))
  }
  write.csv(out, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
}

cases <- list()
add_case <- function(name, value) cases[[name]] <<- value
m <- function(x) unname(as.matrix(x))

tests_of <- function(fit) {
  s <- summary(fit)
  list(
    logtest = unname(s$logtest[1:3]), waldtest = unname(s$waldtest[1:3]),
    sctest = unname(s$sctest[1:3]),
    robscore = if (is.null(fit$rscore)) NULL else unname(s$robscore[1:3])
  )
}

cox_case <- function(fit, newdata, times, collapse = NULL) {
  cc <- concordance(fit)
  res <- list(
    coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))), n = fit$n, nevent = fit$nevent,
    n_missing = length(fit$na.action),
    tests = tests_of(fit),
    concordance = list(value = unname(cc$concordance), se = sqrt(unname(cc$var)),
                       count = unname(if (is.matrix(cc$count)) colSums(cc$count) else cc$count)),
    martingale = unname(residuals(fit, "martingale")),
    deviance = unname(residuals(fit, "deviance")),
    score = m(residuals(fit, "score")),
    schoenfeld = m(residuals(fit, "schoenfeld")),
    schoenfeld_time = as.numeric(rownames(as.matrix(residuals(fit, "schoenfeld")))),
    scaledsch = m(residuals(fit, "scaledsch")),
    dfbeta = m(residuals(fit, "dfbeta")),
    dfbetas = m(residuals(fit, "dfbetas"))
  )
  if (!is.null(collapse)) {
    res$collapsed <- list(
      martingale = unname(residuals(fit, "martingale", collapse = collapse)),
      deviance = unname(residuals(fit, "deviance", collapse = collapse)),
      dfbeta = m(residuals(fit, "dfbeta", collapse = collapse)),
      score = m(residuals(fit, "score", collapse = collapse))
    )
  }
  sf <- survfit(fit, newdata = newdata)
  s <- summary(sf, times = times, extend = TRUE)
  res$surv <- list(times = times, surv = m(s$surv), std_err = m(s$std.err),
                   lower = m(s$lower), upper = m(s$upper))
  for (ct in c("log-log", "plain")) {
    s2 <- summary(survfit(fit, newdata = newdata, conf.type = ct), times = times, extend = TRUE)
    res[[paste0("surv_", sub("-", "", ct))]] <- list(lower = m(s2$lower), upper = m(s2$upper))
  }
  res
}

# ---- lung: right-censored, missing covariates, Efron ties ------------------------------------
lung2 <- lung[, c("time", "status", "age", "sex", "ph.ecog", "wt.loss", "inst")]
lung2$status <- lung2$status - 1L
write_exact(lung2, "lung")
fit <- coxph(Surv(time, status) ~ age + sex + ph.ecog + wt.loss, data = lung2, control = ctrl)
nd <- data.frame(age = c(50, 70), sex = c(1, 2), ph.ecog = c(0, 2), wt.loss = c(0, 10))
add_case("lung", cox_case(fit, nd, c(5, 100, 180.5, 365, 600, 1000)))
fit <- coxph(Surv(time, status) ~ age + sex + ph.ecog + wt.loss, data = lung2, control = ctrl,
             ties = "breslow")
add_case("lung_breslow", cox_case(fit, nd, c(5, 100, 180.5, 365, 600, 1000)))

# ---- veteran: strata, Breslow ties ------------------------------------------------------------
write_exact(veteran, "veteran")
fit <- coxph(Surv(time, status) ~ trt + karno + age + strata(celltype), data = veteran,
             ties = "breslow", control = ctrl)
nd <- data.frame(trt = c(1, 2), karno = c(60, 80), age = c(60, 50),
                 celltype = c("squamous", "adeno"))
v <- cox_case(fit, nd, c(10, 30, 100, 200))
v$surv <- NULL
s1 <- summary(survfit(fit, newdata = nd[1, ]), times = c(10, 30, 100, 200), extend = TRUE)
s2 <- summary(survfit(fit, newdata = nd[2, ]), times = c(10, 30, 100, 200), extend = TRUE)
v$surv <- list(times = c(10, 30, 100, 200), surv = cbind(s1$surv, s2$surv),
               std_err = cbind(s1$std.err, s2$std.err), lower = cbind(s1$lower, s2$lower),
               upper = cbind(s1$upper, s2$upper))
add_case("veteran_strata", v)

# ---- heart: start-stop, case weights, strata, cluster -----------------------------------------
heart2 <- heart
heart2$transplant <- as.integer(as.character(heart2$transplant))
heart2$w <- 1 + (heart2$id %% 4) / 4
write_exact(heart2, "heart")
fit <- coxph(Surv(start, stop, event) ~ age + year + transplant + strata(surgery),
             data = heart2, weights = w, cluster = id, control = ctrl)
nd <- data.frame(age = c(-5, 5), year = c(1, 4), transplant = c(0, 1), surgery = c(0, 1))
h <- cox_case(fit, nd, c(10, 50, 200, 500), collapse = heart2$id)
s1 <- summary(survfit(fit, newdata = nd[1, ]), times = c(10, 50, 200, 500), extend = TRUE)
s2 <- summary(survfit(fit, newdata = nd[2, ]), times = c(10, 50, 200, 500), extend = TRUE)
h$surv <- list(times = c(10, 50, 200, 500), surv = cbind(s1$surv, s2$surv),
               std_err = cbind(s1$std.err, s2$std.err), lower = cbind(s1$lower, s2$lower),
               upper = cbind(s1$upper, s2$upper))
add_case("heart_weighted", h)
fit <- coxph(Surv(start, stop, event) ~ age + year + transplant, data = heart2, control = ctrl)
add_case("heart", cox_case(fit, nd[, 1:3], c(10, 50, 200, 500), collapse = heart2$id))

# ---- mgus2: Fine-Gray (finegray + weighted coxph), censoring strata ----------------------------
mg <- mgus2
mg$etime <- with(mg, ifelse(pstat == 0, futime, ptime))
mg$event <- with(mg, ifelse(pstat == 0, 2 * death, 1))
mg$male <- as.integer(mg$sex == "M")
mg <- mg[, c("id", "etime", "event", "age", "male", "sex", "hgb", "creat")]
write_exact(mg, "mgus2")
fg_case <- function(data, formula_fg, formula_cox, newdata, times) {
  keep <- complete.cases(data[, c("etime", "event", all.vars(formula_cox)[-(1:3)])])
  dd <- data[keep, ]
  dd$ev <- factor(dd$event, 0:2, labels = c("censor", "pcm", "death"))
  pdata <<- finegray(formula_fg, data = dd, etype = "pcm")
  fgfit <- coxph(formula_cox, weights = fgwt, cluster = id, data = pdata, control = ctrl)
  sf <- survfit(fgfit, newdata = newdata)
  s <- summary(sf, times = times, extend = TRUE)
  list(coef = unname(coef(fgfit)), se = unname(sqrt(diag(fgfit$var))),
       naive_se = unname(sqrt(diag(fgfit$naive.var))), n_missing = sum(!keep),
       loglik = unname(fgfit$loglik),
       cif = list(times = times, surv = m(s$surv), std_err = m(s$std.err),
                  lower = m(s$lower), upper = m(s$upper)))
}
nd <- data.frame(age = c(60, 80), male = c(0, 1), hgb = c(13, 11))
tt <- c(12, 60, 120, 240, 400)
add_case("fg_mgus2", fg_case(mg, Surv(etime, ev) ~ ., Surv(fgstart, fgstop, fgstatus) ~ age + male + hgb,
                             nd, tt))
add_case("fg_mgus2_strata", fg_case(mg, Surv(etime, ev) ~ . + strata(sex),
                                    Surv(fgstart, fgstop, fgstatus) ~ age + male + hgb, nd, tt))

meta <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
writeLines(json_value(list(meta = meta, cases = cases)), file.path(out_dir, "results.json"))
cat("wrote", length(cases), "cases to", out_dir, "\n")
