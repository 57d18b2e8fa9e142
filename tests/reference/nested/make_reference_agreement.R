# Reference values for psychometrics.agreement beyond the shared golden file: F-based ICC
# intervals (psych::statsBy), mixed-model ICC (lme4::lmer, REML), skewed-null rwg(j), the
# simulated null of rwg(j), and R's classic public checks (multilevel::bh1996, lq2002).
# Usage (from the repository root):
#   Rscript tests/reference/nested/make_reference_agreement.R
# Writes bh1996.csv, lq2002.csv and ref_agreement.json beside this script.
# R 4.x, multilevel 2.7, psych, lme4, jsonlite.
suppressPackageStartupMessages({library(jsonlite); library(multilevel); library(psych); library(lme4)})
here <- "tests/reference/nested"
shared <- "/work/shared/reference/nested"
out <- list()

icc_block <- function(score, grp) {
  m <- aov(score ~ as.factor(grp))
  # statsBy needs two variables or more: the score twice (its rows are identical)
  sb <- statsBy(data.frame(score = score, copy = score, grp = grp), group = "grp", alpha = 0.05)
  fit <- lmer(score ~ 1 + (1 | grp), REML = TRUE)
  vc <- as.data.frame(VarCorr(fit))
  tau <- vc$vcov[vc$grp == "grp"]; sig <- vc$vcov[vc$grp == "Residual"]
  list(icc1 = ICC1(m), icc2 = ICC2(m),                         # multilevel::ICC1 / ICC2
       icc1_ci = unname(sb$ci1[1, ]), icc2_ci = unname(sb$ci2[1, ]),  # psych::statsBy $ci1 $ci2
       icc1_mixed = tau / (tau + sig))                            # lme4::lmer REML
}

# 1. multilevel::bh1996 (Bliese & Halverson 1996): 7,382 soldiers in 99 companies
data(bh1996)
write.csv(bh1996[, c("GRP", "COHES", "LEAD", "WBEING")], file.path(here, "bh1996.csv"), row.names = FALSE)
out$bh1996 <- lapply(c(WBEING = "WBEING", COHES = "COHES", LEAD = "LEAD"),
                     function(v) icc_block(bh1996[[v]], bh1996$GRP))
# rwg of a single score (WBEING: 0-4 in theory, 5 options -> ranvar 2), awg, AD
r1 <- rwg(bh1996$WBEING, bh1996$GRP, ranvar = 2)
out$bh1996_rwg_wbeing <- list(grp = r1$grpid, rwg = r1$rwg, gsize = r1$gsize)

# 2. multilevel::lq2002: 11 leadership items (1-5) of 2,042 soldiers in 49 companies
data(lq2002)
lq <- lq2002[, c("COMPID", sprintf("LEAD%02d", 1:11))]
write.csv(lq, file.path(here, "lq2002.csv"), row.names = FALSE)
it <- lq[, -1]; g <- lq$COMPID
rj <- rwg.j(it, g, ranvar = 2)
rl <- rwg.j.lindell(it, g, ranvar = 2)
rs <- rwg.j(it, g, ranvar = 1.34)                             # slightly skewed null
rm <- rwg.j(it, g, ranvar = 0.90)                             # moderately skewed null
aw <- awg(it, g, range = c(1, 5))
am <- ad.m(it, g, type = "mean"); ad <- ad.m(it, g, type = "median")
out$lq2002 <- list(grp = rj$grpid, gsize = rj$gsize, rwg_j = rj$rwg.j, rwg_j_lindell = rl$rwg.lindell,
                   rwg_j_slight = rs$rwg.j, rwg_j_moderate = rm$rwg.j, awg = aw$a.wg,
                   ad_mean = am$AD.M, ad_median = ad$AD.M,
                   icc = icc_block(rowMeans(it), g))

# 3. the shared nested study: intervals and mixed-model ICC at both levels, every scale
p <- read.csv(file.path(shared, "nested_dev.csv"), stringsAsFactors = FALSE)
keys <- fromJSON(file.path(shared, "keys_nested_dev.json"), simplifyVector = FALSE)
lo <- keys$min; hi <- keys$max
for (s in names(keys$scales)) for (v in keys$scales[[s]]) if (startsWith(v, "-")) {
  i <- sub("^-", "", v); p[[i]] <- hi + lo - p[[i]]
}
nested <- list()
for (s in names(keys$scales)) {
  its <- sub("^-", "", unlist(keys$scales[[s]]))
  ok <- complete.cases(p[, its]); score <- rowMeans(p[ok, its])
  nested[[s]] <- list(org = icc_block(score, p$org[ok]), consortium = icc_block(score, p$consortium[ok]),
                      rwg_j_slight = rwg.j(p[ok, its], p$org[ok], ranvar = 1.34)$rwg.j)
}
out$nested <- nested

# 4. the simulated null of rwg(j): rwg.j.sim(gsize, nitems = 4, nresp = 5), 20,000 draws
set.seed(2008)
out$rwg_j_sim <- lapply(c(g3 = 3, g5 = 5, g10 = 10), function(n) {
  r <- rwg.j.sim(gsize = n, nitems = 4, nresp = 5, nrep = 20000)
  list(gsize = n, mean = mean(r$rwg), q95 = unname(quantile(r$rwg, 0.95)), rwg_95 = r$rwg.95)
})
out$versions <- list(R = R.version.string, multilevel = as.character(packageVersion("multilevel")),
                     psych = as.character(packageVersion("psych")), lme4 = as.character(packageVersion("lme4")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), file.path(here, "ref_agreement.json"))
