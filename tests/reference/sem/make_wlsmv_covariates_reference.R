# WLSMV with observed covariates (lavaan's conditional.x = TRUE, its default for ordered
# items with exogenous covariates): a simulated data set of six 5-point items and two
# covariates (x1 continuous, x2 a 0/1 dummy), n = 500, and two models. Run from this folder:
#   Rscript make_wlsmv_covariates_reference.R   (lavaan 0.6-14, jsonlite)
# Writes wlsmv_covariates.csv and wlsmv_covariates.json; tests/test_wlsmv_covariates.py
# reads them. Besides fitMeasures and parameterEstimates(standardized = TRUE), each model
# keeps the stages of the estimation: lavInspect(fit, "sampstat") (res.th, res.slopes,
# res.cov), lavInspect(fit, "wls.obs") (their order), lavInspect(fit, "gamma") and the
# diagonal of lavInspect(fit, "wls.v"); and lavInspect(fit, "r2").
suppressMessages({library(lavaan); library(jsonlite)})
set.seed(20261207)
n <- 500
x1 <- round(rnorm(n), 3)
x2 <- rbinom(n, 1, 0.4)
f1 <- 0.5 * x1 - 0.4 * x2 + rnorm(n)
f2 <- 0.5 * f1 + 0.3 * x1 + rnorm(n, sd = 0.8)
cut5 <- function(z, shift = 0) as.integer(cut(z + shift, c(-Inf, -1.5, -0.5, 0.4, 1.3, Inf)))
d <- data.frame(
  y1 = cut5(0.8 * f1 + rnorm(n, sd = 0.6)),
  y2 = cut5(0.7 * f1 + rnorm(n, sd = 0.7), 0.2),
  y3 = cut5(0.6 * f1 + rnorm(n, sd = 0.8), -0.2),
  y4 = cut5(0.8 * f2 + 0.4 * x2 + rnorm(n, sd = 0.6)),
  y5 = cut5(0.7 * f2 + rnorm(n, sd = 0.7), 0.3),
  y6 = cut5(0.6 * f2 + rnorm(n, sd = 0.8)),
  x1 = x1, x2 = x2
)
write.csv(d, "wlsmv_covariates.csv", row.names = FALSE)
keys <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
          "chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
          "rmsea.scaled", "srmr", "npar", "baseline.chisq", "baseline.df", "baseline.chisq.scaled")
pe <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE)
  p[, intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci.lower",
                  "ci.upper", "std.all"), names(p))]
}
stages <- function(fit) {
  s <- lavInspect(fit, "sampstat")
  g <- lavInspect(fit, "gamma")
  list(res_th = as.list(s$res.th), res_slopes = unclass(s$res.slopes),
       res_cov = unclass(s$res.cov), wls_obs = as.list(lavInspect(fit, "wls.obs")),
       gamma = unclass(g), gamma_names = rownames(g),
       wls_v_diag = diag(lavInspect(fit, "wls.v")))
}
one <- function(model, items, data = d) {
  fit <- sem(model, data = data, ordered = items, estimator = "WLSMV")
  stopifnot(lavInspect(fit, "options")$conditional.x)
  list(model = model, fit = as.list(fitMeasures(fit, keys)), estimates = pe(fit),
       r2 = as.list(lavInspect(fit, "r2")), stages = stages(fit))
}
out <- list()
out$mimic <- one('
  F =~ y1 + y2 + y3 + y4
  F ~ x1 + x2
', c("y1", "y2", "y3", "y4"))
out$two_factors <- one('
  F1 =~ y1 + y2 + y3
  F2 =~ y4 + y5 + y6
  F1 ~ x1
  F2 ~ x1
  y4 ~ x2
', c("y1", "y2", "y3", "y4", "y5", "y6"))
out$one_covariate <- one('
  F1 =~ y1 + y2 + y3
  F1 ~ x1
', c("y1", "y2", "y3"))
# binary items: y1-y4 cut at 3 (1 if >= 3), y5 with its top categories merged (min(y5, 3))
db <- d
for (k in 1:4) db[[paste0("y", k)]] <- as.integer(db[[paste0("y", k)]] >= 3)
db$y5 <- pmin(db$y5, 3)
out$binary <- one('
  F =~ y1 + y2 + y3 + y4 + y5
  F ~ x1 + x2
', paste0("y", 1:5), db)
# the MIMIC model in two groups (alternate rows): thresholds and slopes per group, the
# covariates' moments fixed per group
d$g <- rep(c("a", "b"), length.out = nrow(d))
mg <- sem(out$mimic$model, data = d, group = "g", ordered = c("y1", "y2", "y3", "y4"),
          estimator = "WLSMV")
out$mimic_groups <- list(model = out$mimic$model, fit = as.list(fitMeasures(mg, keys)),
                         estimates = pe(mg))
# the two-factor model by ML (items numeric): sem()'s auto.cov.y covaries the disturbances
# of F1 and F2 (both regressed, neither a predictor), whatever the estimator
ml <- sem(out$two_factors$model, data = d[, 1:8])
out$two_factors_ml <- list(model = out$two_factors$model,
                           fit = as.list(fitMeasures(ml, c("chisq", "df", "cfi", "tli", "rmsea"))),
                           estimates = pe(ml))
# auto.cov.y with two observed outcomes (path analysis on observed.csv of
# make_observed_reference.R): meet ~~ IND1 is free
obs <- read.csv("observed.csv")
two <- sem("meet ~ years + member\nIND1 ~ years", data = obs)
out$two_outcomes_ml <- list(model = "meet ~ years + member\nIND1 ~ years",
                            fit = as.list(fitMeasures(two, c("chisq", "df", "cfi", "rmsea"))),
                            estimates = pe(two))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"),
           "wlsmv_covariates.json")
