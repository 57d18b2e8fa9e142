# References for pm.sem with observed (manifest) variables in regressions (issue 12):
# MIMIC models, an observed mediator, a path analysis, lavaan's defaults (fixed.x = TRUE:
# the exogenous covariates' variances, covariances and means are their sample values, not
# parameters, not in df). Run from this folder:
#   Rscript make_observed_reference.R     (lavaan 0.6-14, jsonlite)
# Writes observed.csv (simulated) and observed.json; tests/test_sem_observed.py reads them.
suppressMessages({library(lavaan); library(jsonlite)})

keys <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
          "srmr", "aic", "bic", "logl", "npar", "baseline.chisq", "baseline.df")
pe <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE)
  p[, intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci.lower",
                  "ci.upper", "std.all"), names(p))]
}
ref <- function(fit) {
  r2 <- lavInspect(fit, "r2")
  if (is.list(r2)) r2 <- r2[[1]]  # groups: the first group's
  list(fit = as.list(fitMeasures(fit, keys)), estimates = pe(fit), r2 = as.list(r2))
}

# A consortium-like data set: years of participation (continuous), a role dummy
# (1 = member representative), an individual-benefit factor IND (3 five-point items), an
# organization factor ORG (4 items), an observed mediator (meetings attended, a count) and a
# users factor USR (3 items).
set.seed(20261207)
n <- 500
years <- round(rgamma(n, shape = 3, rate = 1), 1)
member <- rbinom(n, 1, 0.6)
ind <- 0.3 * as.numeric(scale(years)) + 0.5 * member + rnorm(n, sd = 0.85)
meet <- round(pmax(0, 4 + 1.5 * ind + rnorm(n, sd = 2)))
org <- 0.45 * ind + 0.3 * member + rnorm(n, sd = 0.8)
usr <- 0.25 * as.numeric(scale(meet)) + 0.3 * ind + rnorm(n, sd = 0.85)
lik <- function(eta, lam, k, shift = 0) {
  ystar <- lam * as.numeric(scale(eta)) + rnorm(length(eta), sd = sqrt(1 - lam^2)) + shift
  as.integer(cut(ystar, c(-Inf, -1.5 + 0.1 * k, -0.5 + 0.1 * k, 0.4, 1.3, Inf)))
}
d <- data.frame(years = years, member = member, meet = meet)
for (k in 1:3) d[[paste0("IND", k)]] <- lik(ind, c(0.8, 0.7, 0.65)[k], k)
# ORG3 is easier to endorse for members (a direct effect of the role: DIF)
for (k in 1:4) d[[paste0("ORG", k)]] <- lik(org, c(0.75, 0.7, 0.6, 0.65)[k], k,
                                           shift = if (k == 3) 0.4 * member else 0)
for (k in 1:3) d[[paste0("USR", k)]] <- lik(usr, c(0.8, 0.7, 0.6)[k], k)
d$site <- rep(c("A", "B"), length.out = n)
write.csv(d, "observed.csv", row.names = FALSE)
out <- list()

# 1. MIMIC: two observed covariates predict a latent factor
mimic <- '
  ORG =~ ORG1 + ORG2 + ORG3 + ORG4
  ORG ~ years + member
'
out$mimic <- c(list(model = mimic), ref(sem(mimic, data = d)))

# 2. MIMIC with a direct effect of the role on one item (DIF), labelled
mimic_dif <- '
  ORG =~ ORG1 + ORG2 + ORG3 + ORG4
  ORG ~ years + g*member
  ORG3 ~ dif*member
'
out$mimic_dif <- c(list(model = mimic_dif), ref(sem(mimic_dif, data = d)))

# 3. An observed mediator between two factors, with a covariate, indirect and total effects
mediator <- '
  IND =~ IND1 + IND2 + IND3
  USR =~ USR1 + USR2 + USR3
  IND ~ member
  meet ~ a*IND
  USR ~ b*meet + c*IND
  ind := a*b
  total := a*b + c
'
fit_med <- sem(mediator, data = d)
out$mediator <- c(list(model = mediator), ref(fit_med))
# its percentile bootstrap (Monte Carlo: compared loosely)
set.seed(1)
fit_b <- sem(mediator, data = d, se = "bootstrap", bootstrap = 1000)
pb <- parameterEstimates(fit_b, boot.ci.type = "perc")
out$mediator$bootstrap <- pb[pb$op == ":=", c("lhs", "est", "se", "ci.lower", "ci.upper")]

# 4. Path analysis: observed variables only
path <- '
  meet ~ a*years + member
  IND1 ~ b*meet + years
  ab := a*b
'
out$path <- c(list(model = path), ref(sem(path, data = d)))

# 5. An exogenous factor and an exogenous covariate side by side (lavaan does not let
#    them covary by default), with a second endogenous factor
side <- '
  IND =~ IND1 + IND2 + IND3
  ORG =~ ORG1 + ORG2 + ORG3 + ORG4
  ORG ~ IND + member
'
out$side <- c(list(model = side), ref(sem(side, data = d)))

# 6. MIMIC by FIML with missing item answers (the covariates complete)
dm <- d
set.seed(2)
for (v in c("ORG1", "ORG2", "ORG3", "ORG4")) dm[sample(n, 40), v] <- NA
write.csv(dm, "observed_missing.csv", row.names = FALSE, na = "")
out$mimic_fiml <- c(list(model = mimic), ref(sem(mimic, data = dm, missing = "ml")))

# 7. MIMIC in two groups (the covariates' moments fixed per group)
out$mimic_groups <- c(list(model = mimic), ref(sem(mimic, data = d, group = "site")))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "observed.json")
