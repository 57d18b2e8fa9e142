# Extra R reference values for tests/test_factor.py (geomin, other fm x rotate pairs, pairwise
# missing data, one factor, Heywood cases, fit indices, parallel analysis, polychoric EFA).
# R 4.2.2, psych 2.2.9, GPArotation 2022.10-2. Run from the repository root:
#   Rscript tests/reference/make_factor_reference.R ../shared/reference tests/reference
# Writes factor_extra.json and heywood.csv. Data prepared as ../shared/reference/make_reference.R
# does: listwise-complete rows on items and group columns, reverse keys recoded max + min - x.
suppressPackageStartupMessages({ library(jsonlite); library(psych); library(GPArotation) })
args <- commandArgs(trailingOnly = TRUE)
refdir <- args[1]; outdir <- args[2]
prep <- function(name, listwise = TRUE) {
  cfg <- fromJSON(file.path(refdir, paste0(name, ".json")), simplifyVector = FALSE)
  raw <- read.csv(file.path(refdir, cfg$csv), stringsAsFactors = FALSE)
  scales <- lapply(cfg$scales, unlist); strip <- function(v) sub("^-", "", v)
  items <- unlist(lapply(scales, strip), use.names = FALSE)
  d <- if (listwise) raw[complete.cases(raw[, c(items, unlist(cfg$groups))]), ] else raw
  x <- d[, items]
  for (s in names(scales)) for (v in scales[[s]]) if (startsWith(v, "-")) {
    it <- strip(v); x[[it]] <- cfg$max + cfg$min - x[[it]]
  }
  list(x = x, nf = cfg$nfactors)
}
tidy <- function(f, call) list(call = call, loadings = as.list(as.data.frame(unclass(f$loadings))),
  communalities = as.list(f$communality), uniquenesses = as.list(f$uniquenesses),
  phi = if (is.null(f$Phi)) NULL else unname(f$Phi), dof = f$dof, rms = f$rms,
  ss_loadings = as.list(f$Vaccounted[1, ]), row_names = rownames(f$loadings))
out <- list(versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation"))))
fits <- list()
for (name in c("bfi", "hs1939", "consortium_dev")) {
  p <- prep(name); x <- p$x; nf <- p$nf
  fits[[paste0(name, ".minres_geomin")]] <- tidy(fa(x, nfactors = nf, fm = "minres", rotate = "geominQ"),
    sprintf('psych::fa(x, nfactors = %d, fm = "minres", rotate = "geominQ")', nf))
  fits[[paste0(name, ".ml_geomin")]] <- tidy(fa(x, nfactors = nf, fm = "ml", rotate = "geominQ"),
    sprintf('psych::fa(x, nfactors = %d, fm = "ml", rotate = "geominQ")', nf))
}
p <- prep("hs1939"); x <- p$x
for (fm in c("minres", "ml", "pa")) for (rot in c("oblimin", "varimax", "promax", "geominQ", "none")) {
  fits[[paste0("hs1939.", fm, "_", rot)]] <- tidy(fa(x, nfactors = 3, fm = fm, rotate = rot),
    sprintf('psych::fa(x, nfactors = 3, fm = "%s", rotate = "%s")', fm, rot))
  fits[[paste0("hs1939.", fm, "_1factor")]] <- tidy(fa(x, nfactors = 1, fm = fm),
    sprintf('psych::fa(x, nfactors = 1, fm = "%s")', fm))
}
# pairwise-complete correlations on every row of bfi (psych::fa's default use = "pairwise")
pb <- prep("bfi", listwise = FALSE)
fits[["bfi_pairwise.minres_oblimin"]] <- tidy(fa(pb$x, nfactors = 5, fm = "minres", rotate = "oblimin"),
  'psych::fa(x_all_rows, nfactors = 5, fm = "minres", rotate = "oblimin")  # use = "pairwise"')
out$bfi_pairwise_cor_A1_C1 <- cor(pb$x, use = "pairwise")["A1", "C1"]
# polychoric EFA (correct = 0, as ref_*.json's polychoric)
pc <- prep("consortium_dev")
rho <- polychoric(pc$x, correct = 0)$rho
fits[["consortium_dev_polychoric.minres_oblimin"]] <- tidy(fa(rho, nfactors = 4, fm = "minres", rotate = "oblimin", n.obs = nrow(pc$x)),
  'psych::fa(psych::polychoric(x, correct = 0)$rho, nfactors = 4, fm = "minres", rotate = "oblimin")')
# Heywood cases: 4 variables with an impossible one-factor structure (r12 r13 / r23 > 1)
S <- matrix(c(1, .85, .85, .3, .85, 1, .6, .3, .85, .6, 1, .3, .3, .3, .3, 1), 4)
set.seed(1)
h <- MASS::mvrnorm(200, rep(0, 4), S, empirical = TRUE); colnames(h) <- paste0("h", 1:4)
write.csv(as.data.frame(h), file.path(outdir, "heywood.csv"), row.names = FALSE)
hw <- read.csv(file.path(outdir, "heywood.csv"))
for (fm in c("minres", "ml", "pa")) fits[[paste0("heywood.", fm)]] <- tidy(
  suppressWarnings(fa(hw, nfactors = 1, fm = fm)), sprintf('psych::fa(heywood, nfactors = 1, fm = "%s")', fm))
out$fits <- fits
# parallel analysis: observed eigenvalues (pc; reduced with SMC) and simulated means
par <- list()
for (name in c("hs1939", "consortium_dev")) {
  x <- prep(name)$x
  set.seed(20240601)
  fp <- fa.parallel(x, n.iter = 1000, fa = "both", SMC = TRUE, plot = FALSE)
  par[[name]] <- list(call = "set.seed(20240601); psych::fa.parallel(x, n.iter = 1000, fa = 'both', SMC = TRUE, plot = FALSE)",
                      n = nrow(x), pc_values = fp$pc.values, fa_values = fp$fa.values,
                      pc_sim = fp$pc.sim, fa_sim = fp$fa.sim, ncomp = fp$ncomp, nfact = fp$nfact)
}
out$parallel <- par
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"),
      file.path(outdir, "factor_extra.json"))
