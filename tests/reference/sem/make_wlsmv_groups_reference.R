# Multi-group WLSMV (lavaan's default identification for ordered items in groups: delta
# parameterization, thresholds free per group, scale factors 1, intercepts and latent means
# 0) on the chain data of make_sem_reference.R split in two groups (alternate rows). Run from
# this folder:  Rscript make_wlsmv_groups_reference.R   (lavaan 0.6-14, jsonlite)
# Writes wlsmv_groups.json; tests/test_wlsmv_groups.py reads it.
suppressMessages({library(lavaan); library(jsonlite)})
wkeys <- c("chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "cfi", "tli",
           "rmsea", "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "npar",
           "baseline.chisq", "baseline.chisq.scaled")
pe <- function(fit) {
  p <- parameterEstimates(fit, standardized = TRUE)
  p[, intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci.lower",
                  "ci.upper", "std.all"), names(p))]
}
d <- read.csv("chain.csv")
items <- names(d)
d$g <- rep(c("a", "b"), length.out = nrow(d))
out <- list()
cfa_model <- '
  IND =~ IND1 + IND2 + IND3
  ORG =~ ORG1 + ORG2 + ORG3
  ECO =~ ECO1 + ECO2 + ECO3
  USR =~ USR1 + USR2 + USR3
'
f1 <- cfa(cfa_model, data = d, group = "g", ordered = items, estimator = "WLSMV")
out$cfa <- list(model = cfa_model, fit = as.list(fitMeasures(f1, wkeys)), estimates = pe(f1))
sem_model <- '
  IND =~ IND1 + IND2 + IND3
  ORG =~ ORG1 + ORG2 + ORG3
  ECO =~ ECO1 + ECO2 + ECO3
  USR =~ USR1 + USR2 + USR3
  ORG ~ a*IND
  ECO ~ b*ORG
  USR ~ c*ECO + IND
  ind_usr := a*b*c
'
f2 <- sem(sem_model, data = d, group = "g", ordered = items, estimator = "WLSMV")
out$sem <- list(model = sem_model, fit = as.list(fitMeasures(f2, wkeys)), estimates = pe(f2))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "wlsmv_groups.json")
