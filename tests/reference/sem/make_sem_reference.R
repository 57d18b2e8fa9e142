# References for pm.sem and the WLSMV marker rule (issue 12). Run from this folder:
#   Rscript make_sem_reference.R      (lavaan 0.6-14, semTools 0.5-6, jsonlite)
# Writes chain.csv (the simulated chain data) and sem.json. Every number in sem.json is
# what the R call beside it gives; tests/test_sem.py reads them (no R at test time).
suppressMessages({library(lavaan); library(semTools); library(jsonlite)})

keys <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
          "srmr", "aic", "bic", "logl", "npar", "baseline.chisq", "baseline.df")
wkeys <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "cfi", "tli",
           "rmsea", "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "npar")
pe <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE)
  p <- p[, intersect(c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci.lower",
                       "ci.upper", "std.all"), names(p))]
  p
}
out <- list()

# 1. PoliticalDemocracy, the full model (lavaan's tutorial): chisq 38.125 on 35 df
pd_model <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'
write.csv(PoliticalDemocracy, "political_democracy.csv", row.names = FALSE)
fit <- sem(pd_model, data = PoliticalDemocracy)
out$poldem <- list(model = pd_model, fit = as.list(fitMeasures(fit, keys)), estimates = pe(fit))

# 2. A chain IND -> ORG -> ECO -> USR (direct effect IND -> USR) on 5-point items
set.seed(20261207)
n <- 600
ind <- rnorm(n)
org <- 0.5 * ind + rnorm(n, sd = sqrt(1 - 0.25))
eco <- 0.45 * org + rnorm(n, sd = sqrt(1 - 0.45^2))
usr <- 0.4 * eco + 0.15 * ind + rnorm(n, sd = 0.88)
lat <- list(IND = ind, ORG = org, ECO = eco, USR = usr)
load <- c(0.8, 0.7, 0.6)
cuts <- c(-1.5, -0.5, 0.4, 1.3)
d <- data.frame(row.names = seq_len(n))
for (f in names(lat)) for (k in 1:3) {
  ystar <- load[k] * as.numeric(scale(lat[[f]])) + rnorm(n, sd = sqrt(1 - load[k]^2))
  d[[paste0(f, k)]] <- as.integer(cut(ystar, c(-Inf, cuts + 0.1 * k, Inf)))
}
write.csv(d, "chain.csv", row.names = FALSE)
chain_model <- '
  IND =~ IND1 + IND2 + IND3
  ORG =~ ORG1 + ORG2 + ORG3
  ECO =~ ECO1 + ECO2 + ECO3
  USR =~ USR1 + USR2 + USR3
  ORG ~ a*IND
  ECO ~ b*ORG
  USR ~ c*ECO + d*IND
  ind_eco := a*b
  ind_usr := a*b*c
  total_usr := a*b*c + d
'
fit_ml <- sem(chain_model, data = d)
fit_w <- sem(chain_model, data = d, ordered = names(d), estimator = "WLSMV")
out$chain <- list(
  model = chain_model,
  ml = list(fit = as.list(fitMeasures(fit_ml, keys)), estimates = pe(fit_ml)),
  wlsmv = list(fit = as.list(fitMeasures(fit_w, wkeys)), estimates = pe(fit_w))
)
# percentile bootstrap of the indirect effects (Monte Carlo: compared loosely)
set.seed(1)
fit_b <- sem(chain_model, data = d, se = "bootstrap", bootstrap = 1000)
pb <- parameterEstimates(fit_b, boot.ci.type = "perc")
out$chain$bootstrap <- pb[pb$op == ":=", c("lhs", "est", "se", "ci.lower", "ci.upper")]

# 3. WLSMV marker with a cross-loading (semTools::datCat): the marker of f2 is u5, its
#    first listed item, although u3 comes first in data order
cat_model <- '
  f1 =~ u1 + u2 + u3 + u4
  f2 =~ u5 + u6 + u7 + u8 + u3
'
x <- datCat[, paste0("u", 1:8)]
x[] <- lapply(x, as.integer)
write.csv(x, "datcat.csv", row.names = FALSE)
fit_c <- cfa(cat_model, data = x, ordered = names(x), estimator = "WLSMV")
out$datcat <- list(model = cat_model, fit = as.list(fitMeasures(fit_c, wkeys)), estimates = pe(fit_c))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "sem.json")

# 4. WLSMV with a residual covariance (values printed and written beside the test in
#    tests/test_sem.py::test_wlsmv_residual_covariance_matches_lavaan):
# fit_rc <- cfa("f1 =~ u1 + u2 + u3 + u4\n f2 =~ u5 + u6 + u7 + u8\n u1 ~~ u2", data = x,
#               ordered = names(x), estimator = "WLSMV")
# fitMeasures(fit_rc, c("chisq", "df", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"))
# parameterEstimates(fit_rc, standardized = TRUE)
