# Extra R reference values for tests/test_wlsmv.py: lavaan's categorical sample statistics
# (thresholds, polychorics, NACOV = "gamma", DWLS weights) and the pieces of the WLSMV test
# (DWLS chi-square, scaled-shifted statistic, baseline, scaling factor, shift).
# R 4.2.2, lavaan 0.6-14. Run from the repository root:
#   Rscript tests/reference/make_wlsmv_reference.R ../shared/reference tests/reference
# Writes wlsmv_extra.json and wlsmv_zero_cell.csv. Data prepared as
# ../shared/reference/make_reference.R does: listwise-complete rows on items and group columns,
# reverse keys recoded max + min - x.
suppressPackageStartupMessages({ library(jsonlite); library(lavaan); library(semTools) })
args <- commandArgs(trailingOnly = TRUE)
refdir <- args[1]; outdir <- args[2]
prep <- function(name) {
  cfg <- fromJSON(file.path(refdir, paste0(name, ".json")), simplifyVector = FALSE)
  raw <- read.csv(file.path(refdir, cfg$csv), stringsAsFactors = FALSE)
  scales <- lapply(cfg$scales, unlist); strip <- function(v) sub("^-", "", v)
  items <- unlist(lapply(scales, strip), use.names = FALSE)
  d <- raw[complete.cases(raw[, c(items, unlist(cfg$groups))]), ]
  x <- d[, items]
  for (s in names(scales)) for (v in scales[[s]]) if (startsWith(v, "-")) {
    it <- strip(v); x[[it]] <- cfg$max + cfg$min - x[[it]]
  }
  model <- paste(sapply(names(scales), function(s) paste0(s, " =~ ", paste(strip(scales[[s]]), collapse = " + "))),
                 collapse = "\n")
  list(x = x, model = model)
}
wl <- c("fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
        "baseline.chisq", "baseline.df", "baseline.pvalue", "baseline.chisq.scaled",
        "baseline.chisq.scaling.factor", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
        "cfi.scaled", "tli.scaled", "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
        "srmr", "npar")
details <- function(fit, call, full_gamma = FALSE) {
  ss <- lavInspect(fit, "sampstat")
  gam <- lavInspect(fit, "gamma")
  test <- lavInspect(fit, "test")
  pe <- parameterEstimates(fit)
  st <- standardizedSolution(fit)
  load <- pe$op == "=~"; lv <- pe$op == "~~" & pe$lhs %in% lavNames(fit, "lv")
  th <- pe$op == "|"; rv <- pe$op == "~~" & pe$lhs %in% lavNames(fit, "ov") & pe$lhs == pe$rhs
  out <- list(
    call = call,
    n = lavInspect(fit, "nobs"),
    thresholds = as.list(ss$th),
    threshold_names = names(ss$th),
    cor = unname(unclass(ss$cov)),
    gamma_names = rownames(gam),
    gamma_diag = unname(diag(gam)),
    wls_v_diag = unname(diag(lavInspect(fit, "wls.v"))),
    fit = as.list(fitMeasures(fit, wl)),
    trace_ugamma = test$scaled.shifted$trace.UGamma,
    trace_ugamma2 = test$scaled.shifted$trace.UGamma2,
    shift = test$scaled.shifted$shift.parameter,
    loadings = as.list(setNames(pe$est[load], paste0(pe$lhs[load], "=~", pe$rhs[load]))),
    lv_cov = as.list(setNames(pe$est[lv], paste0(pe$lhs[lv], "~~", pe$rhs[lv]))),
    std_loadings = as.list(setNames(st$est.std[load], paste0(st$lhs[load], "=~", st$rhs[load]))),
    # parameterEstimates(fit)$se: robust (sandwich) standard errors
    se_loadings = as.list(setNames(pe$se[load], paste0(pe$lhs[load], "=~", pe$rhs[load]))),
    se_lv_cov = as.list(setNames(pe$se[lv], paste0(pe$lhs[lv], "~~", pe$rhs[lv]))),
    se_thresholds = as.list(setNames(pe$se[th], paste0(pe$lhs[th], "|", pe$rhs[th]))),
    residual_variances = as.list(setNames(pe$est[rv], pe$lhs[rv])),
    std_lv_cov = as.list(setNames(st$est.std[lv], paste0(st$lhs[lv], "~~", st$rhs[lv]))),
    rsquare = as.list(lavInspect(fit, "rsquare")),
    ave = as.list(semTools::AVE(fit)),
    # omega on the latent-response scale (ord.scale = FALSE), observed (polychoric) total variance
    omega_latent = as.list(semTools::compRelSEM(fit, ord.scale = FALSE)),
    omega_latent_implied = as.list(semTools::compRelSEM(fit, ord.scale = FALSE, obs.var = FALSE))
  )
  if (full_gamma) out$gamma <- unname(unclass(gam)) else {
    # a few off-diagonal entries (1-based row, col, value): first threshold x first correlation,
    # first two correlations, a threshold pair of one item
    nth <- length(ss$th)
    idx <- rbind(c(1, nth + 1), c(nth + 1, nth + 2), c(1, 2), c(nth + 1, nth + 3), c(2, nth + 1))
    out$gamma_entries <- lapply(seq_len(nrow(idx)), function(i) c(idx[i, ], gam[idx[i, 1], idx[i, 2]]))
  }
  out
}
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))))

cd <- prep("consortium_dev")
# 1. three items, one factor (df = 0): sample statistics and the full gamma
x3 <- cd$x[, c("TRU1", "TRU2", "TRU4")]
f3 <- cfa("F =~ TRU1 + TRU2 + TRU4", data = x3, ordered = names(x3), estimator = "WLSMV")
out$small3 <- details(f3, 'lavaan::cfa("F =~ TRU1 + TRU2 + TRU4", data = x[, c("TRU1", "TRU2", "TRU4")], ordered = TRUE, estimator = "WLSMV")', TRUE)
out$small3$fit <- NULL
# 2. four items with 5, 3, 2 and 5 categories, one factor (df = 2): bookkeeping of thresholds
x4 <- cd$x[, c("TRU1", "TRU2", "TRU4", "TRU5")]
x4$TRU2 <- c(1, 1, 2, 3, 3)[x4$TRU2]
x4$TRU4 <- as.integer(x4$TRU4 >= 4)
f4 <- cfa("F =~ TRU1 + TRU2 + TRU4 + TRU5", data = x4, ordered = names(x4), estimator = "WLSMV")
out$mixed4 <- details(f4, 'x4$TRU2 <- c(1, 1, 2, 3, 3)[x4$TRU2]; x4$TRU4 <- as.integer(x4$TRU4 >= 4); lavaan::cfa("F =~ TRU1 + TRU2 + TRU4 + TRU5", data = x4, ordered = TRUE, estimator = "WLSMV")', TRUE)
f4s <- cfa("F =~ TRU1 + TRU2 + TRU4 + TRU5", data = x4, ordered = names(x4), estimator = "WLSMV", std.lv = TRUE)
pe <- parameterEstimates(f4s); pe <- pe[pe$op == "=~", ]
out$mixed4_std_lv <- list(call = 'lavaan::cfa(..., data = x4, ordered = TRUE, estimator = "WLSMV", std.lv = TRUE); parameterEstimates(fit)',
                          loadings = as.list(setNames(pe$est, pe$rhs)), se = as.list(setNames(pe$se, pe$rhs)))
# 3. the 4-factor model on consortium_dev (diagonal of gamma and a few entries)
fc <- cfa(cd$model, data = cd$x, ordered = names(cd$x), estimator = "WLSMV")
out$consortium_dev <- details(fc, 'lavaan::cfa(model, data = x, ordered = items, estimator = "WLSMV")')
out$consortium_dev$htmt_ordered <- unname(semTools::htmt(cd$model, data = cd$x, ordered = TRUE))
out$consortium_dev$seconds <- unname(system.time(cfa(cd$model, data = cd$x, ordered = names(cd$x), estimator = "WLSMV"))["elapsed"])
# 4. the 5-factor model on bfi
bf <- prep("bfi")
fb <- cfa(bf$model, data = bf$x, ordered = names(bf$x), estimator = "WLSMV")
out$bfi <- details(fb, 'lavaan::cfa(model, data = x, ordered = items, estimator = "WLSMV")')
out$bfi$cor <- NULL
out$bfi$seconds <- unname(system.time(cfa(bf$model, data = bf$x, ordered = names(bf$x), estimator = "WLSMV"))["elapsed"])
# 5. binary items with an empty cell in a 2x2 table (lavaan adds 0.5, keeping the margins)
set.seed(20240611)
n <- 300
f <- rnorm(n)
ystar <- sapply(c(0.8, 0.7, 0.75, 0.6, 0.7), function(l) l * f + sqrt(1 - l^2) * rnorm(n))
xz <- as.data.frame(1L * (sweep(ystar, 2, c(-0.2, 0.3, 1.9, 0.0, -0.4), ">")))
names(xz) <- paste0("B", 1:5)
# make the table B1 x B3 have an empty cell: no B3 = 1 among B1 = 0
xz$B3[xz$B1 == 0] <- 0L
write.csv(xz, file.path(outdir, "wlsmv_zero_cell.csv"), row.names = FALSE)
fz <- cfa("F =~ B1 + B2 + B3 + B4 + B5", data = xz, ordered = names(xz), estimator = "WLSMV")
out$zero_cell <- details(fz, 'lavaan::cfa("F =~ B1 + B2 + B3 + B4 + B5", data = read.csv("wlsmv_zero_cell.csv"), ordered = TRUE, estimator = "WLSMV")', TRUE)
out$zero_cell$table_B1_B3 <- unname(unclass(table(xz$B1, xz$B3)))
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = FALSE, null = "null", na = "null"),
      file.path(outdir, "wlsmv_extra.json"))
