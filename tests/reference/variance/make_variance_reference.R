# Reference values for psychometrics.variance_split: the variance of each scale score split
# between people, organizations and consortia (random intercepts, REML), as lme4 gives it.
# R 4.2, lme4 1.1-31, jsonlite. Usage (from the repository root):
#   Rscript tests/reference/variance/make_variance_reference.R \
#     /work/shared/reference/nested/nested_dev.csv /work/shared/reference/nested/keys_nested_dev.json \
#     tests/reference/variance/variance_dev.json
# Two cases: "complete" (the shared nested study as it is) and "missing" (the scale's first
# item blanked on rows 1, 12, 23, ... and the consortium code blanked on rows 5, 45, 85, ...:
# each scale is scored on its complete rows, as pm.agreement does).
suppressPackageStartupMessages({library(jsonlite); library(lme4)})
a <- commandArgs(trailingOnly = TRUE)

# A boundary case: every consortium has the same answers (organizations shuffled), so the
# REML consortium variance is 0 (lme4: "boundary (singular) fit"); usage:
#   Rscript tests/reference/variance/make_variance_reference.R --boundary \
#     tests/reference/variance/boundary.csv tests/reference/variance/boundary.json
if (length(a) == 3 && a[1] == "--boundary") {
  b <- read.csv(a[2], stringsAsFactors = FALSE)
  f <- suppressMessages(lmer(y ~ 1 + (1 | consortium/org), data = b, REML = TRUE))
  vc <- as.data.frame(VarCorr(f))
  v <- setNames(vc$vcov, ifelse(vc$grp == "Residual", "person", sub(":.*", "", vc$grp)))
  writeLines(toJSON(list(var = as.list(v), reml_loglik = as.numeric(logLik(f)), singular = isSingular(f),
                         call = "lmer(y ~ 1 + (1 | consortium/org), REML = TRUE)"),
                    auto_unbox = TRUE, digits = NA, pretty = TRUE), a[3])
  quit(save = "no")
}

p0 <- read.csv(a[1], stringsAsFactors = FALSE); keys <- fromJSON(a[2], simplifyVector = FALSE)
lo <- keys$min; hi <- keys$max

split <- function(p, s, formula, groups) {
  its <- unlist(keys$scales[[s]]); x <- p[, sub("^-", "", its)]
  rev <- startsWith(its, "-"); x[, rev] <- hi + lo - x[, rev]
  d <- data.frame(score = rowMeans(x), p[, groups, drop = FALSE])
  d <- d[complete.cases(d), ]
  f <- lmer(formula, data = d, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  vc <- as.data.frame(VarCorr(f))
  v <- setNames(vc$vcov, ifelse(vc$grp == "Residual", "person", sub(":.*", "", vc$grp)))
  list(n = nrow(d), var = as.list(v), share = as.list(v / sum(v)),
       reml_loglik = as.numeric(logLik(f)), intercept = unname(fixef(f)[1]))
}

three <- score ~ 1 + (1 | consortium/org)   # org within consortium: lme4's org:consortium
two <- score ~ 1 + (1 | org)
cases <- list()
for (case in c("complete", "missing")) {
  p <- p0
  if (case == "missing") {
    for (s in names(keys$scales)) {
      first <- sub("^-", "", keys$scales[[s]][[1]])
      p[seq(1, nrow(p), by = 11), first] <- NA
    }
    p$consortium[seq(5, nrow(p), by = 40)] <- NA
  }
  out <- list()
  for (s in names(keys$scales)) {
    out[[s]] <- list(three = split(p, s, three, c("org", "consortium")),
                     two = split(p, s, two, "org"))
  }
  cases[[case]] <- out
}
cases$calls <- list(three = "lmer(score ~ 1 + (1 | consortium/org), REML = TRUE)",
                    two = "lmer(score ~ 1 + (1 | org), REML = TRUE)")
writeLines(toJSON(cases, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), a[3])
