# Extra R reference values for tests/test_reliability.py and tests/test_items.py
# (omega hierarchical, ordinal alpha/omega, psych::alpha item details, psych::describe).
# Usage (from the repository root, with ../shared/reference beside the clone):
#   Rscript tests/reference/make_reliability_reference.R ../shared/reference tests/reference/reliability_extra.json
# R 4.2.2, psych 2.2.9, GPArotation 2022.10-2. Data prepared as make_reference.R does:
# listwise rows on items and group columns, reverse-keyed items recoded max + min - x.
suppressPackageStartupMessages({ library(jsonlite); library(psych); library(GPArotation) })
args <- commandArgs(trailingOnly = TRUE)
refdir <- args[1]
strip <- function(v) sub("^-", "", v)
prep <- function(name) {
  cfg <- fromJSON(file.path(refdir, paste0(name, ".json")), simplifyVector = FALSE)
  raw <- read.csv(file.path(refdir, cfg$csv), stringsAsFactors = FALSE)
  scales <- lapply(cfg$scales, unlist)
  items <- unlist(lapply(scales, strip), use.names = FALSE)
  keep <- complete.cases(raw[, c(items, unlist(cfg$groups))])
  x <- raw[keep, items]
  for (s in names(scales)) for (v in scales[[s]]) if (startsWith(v, "-")) {
    it <- strip(v); x[[it]] <- cfg$max + cfg$min - x[[it]]
  }
  list(cfg = cfg, x = x, scales = lapply(scales, strip))
}
keys_matrix <- function(scales, items) {
  K <- matrix(0, length(items), length(scales), dimnames = list(items, names(scales)))
  for (j in seq_along(scales)) K[scales[[j]], j] <- 1
  K
}
q <- function(expr) suppressWarnings(suppressMessages(expr))
out <- list()
for (name in c("bfi", "hs1939", "consortium_dev")) {
  d <- prep(name); x <- d$x; nf <- d$cfg$nfactors
  res <- list()
  # omega hierarchical: psych::omega(x, nfactors = nf, fm = "minres")  (oblimin, Schmid-Leiman)
  om <- q(omega(x, nfactors = nf, fm = "minres", plot = FALSE))
  res$omega_oblimin <- list(nfactors = nf, omega_h = om$omega_h, omega_total = om$omega.tot,
                            g = unname(om$schmid$sl[, 1]))
  # target rotation to the scale structure:
  # psych::omega(x, nfactors = nf, fm = "minres", rotate = "target", keys = K)
  K <- keys_matrix(d$scales, colnames(x))
  omt <- q(omega(x, nfactors = nf, fm = "minres", rotate = "target", keys = K, plot = FALSE))
  res$omega_target <- list(nfactors = nf, omega_h = omt$omega_h, omega_total = omt$omega.tot,
                           g = unname(omt$schmid$sl[, 1]))
  rel <- list()
  for (s in names(d$scales)) {
    xs <- x[, d$scales[[s]]]
    a <- psych::alpha(xs, check.keys = FALSE, warnings = FALSE)
    r <- list(raw_r = unname(a$item.stats$raw.r), std_r = unname(a$item.stats$std.r),
              r_cor = unname(a$item.stats$r.cor),
              std_alpha_if_deleted = unname(a$alpha.drop$std.alpha),
              g6_if_deleted = unname(a$alpha.drop[["G6(smc)"]]),
              average_r_if_deleted = unname(a$alpha.drop$average_r),
              item_sd = unname(a$item.stats$sd))
    if (isTRUE(d$cfg$ordinal)) {
      # ordinal alpha / omega (Zumbo et al. 2007): on the polychoric matrix
      pc <- psych::polychoric(xs, correct = 0)$rho
      r$ordinal_alpha <- q(psych::alpha(pc, warnings = FALSE))$total$raw_alpha
      r$ordinal_omega <- q(omega(pc, nfactors = 1, fm = "minres", plot = FALSE))$omega.tot
    }
    rel[[s]] <- r
  }
  res$alpha_details <- rel
  # psych::describe (skew type 3 default), psych::response.frequencies
  ds <- describe(x)
  res$describe <- list(items = colnames(x), skew = ds$skew, kurtosis = ds$kurtosis,
                       mean = ds$mean, sd = ds$sd)
  out[[name]] <- res
}
# two group factors (psych's option = "equal"): psych::omega(hs[, 1:6], nfactors = 2)
d <- prep("hs1939")
om2 <- q(omega(d$x[, 1:6], nfactors = 2, fm = "minres", plot = FALSE))
out$hs1939_two_factors <- list(omega_h = om2$omega_h, omega_total = om2$omega.tot)
# polychoric with missing values (pairwise tables, thresholds from each item's answers):
# psych::polychoric(bfi[, c("A1", ..., "A5", "N1")], correct = 0)  on all 2800 rows, NAs kept
raw <- read.csv(file.path(refdir, "bfi.csv"))
pm <- q(psych::polychoric(raw[, c("A1", "A2", "A3", "A4", "A5", "N1")], correct = 0))
out$bfi_missing_polychoric <- list(rho = unname(pm$rho), tau = unname(pm$tau))
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), args[2])
