# Extra lavaan / semTools reference values for tests/test_cfa.py and tests/test_invariance.py
# (beyond ../shared/reference). R 4.2.2, lavaan 0.6-14, semTools 0.5-6.
# Usage (from tests/reference): Rscript make_cfa_extra.R ../../../shared/reference cfa_extra.json
suppressPackageStartupMessages({ library(jsonlite); library(lavaan); library(semTools) })
args <- commandArgs(trailingOnly = TRUE)
ref <- args[1]
prep <- function(name) {  # listwise rows on items and group columns, reverse keyed (as make_reference.R)
  cfg <- fromJSON(file.path(ref, paste0(name, ".json")), simplifyVector = FALSE)
  raw <- read.csv(file.path(ref, cfg$csv), stringsAsFactors = FALSE)
  scales <- lapply(cfg$scales, unlist); strip <- function(v) sub("^-", "", v)
  items <- unlist(lapply(scales, strip), use.names = FALSE)
  rev <- function(x) { for (s in names(scales)) for (v in scales[[s]]) if (startsWith(v, "-")) {
    it <- strip(v); x[[it]] <- cfg$max + cfg$min - x[[it]] }; x }
  keep <- complete.cases(raw[, c(items, unlist(cfg$groups))])
  model <- paste(sapply(names(scales), function(s) paste0(s, " =~ ", paste(strip(scales[[s]]), collapse = " + "))), collapse = "\n")
  xf <- rev(raw[, items]); xf <- xf[rowSums(!is.na(xf)) > 0, ]
  list(x = rev(raw[keep, items]), d = raw[keep, ], xf = xf, model = model, items = items)
}
pe <- function(fit) {  # parameterEstimates + standardizedSolution, free and fixed
  p <- parameterEstimates(fit); s <- standardizedSolution(fit)
  out <- list(lhs = p$lhs, op = p$op, rhs = p$rhs, est = p$est, se = p$se, std_all = s$est.std)
  if (!is.null(p$group)) out$group <- p$group
  out
}
mi <- function(fit) { m <- modindices(fit); list(lhs = m$lhs, op = m$op, rhs = m$rhs,
  group = if (is.null(m$group)) NULL else m$group, mi = m$mi, epc = m$epc, sepc_all = m$sepc.all) }
fm_names <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
              "srmr", "aic", "bic", "logl", "unrestricted.logl", "npar", "baseline.chisq", "baseline.df")
fm <- function(fit) as.list(fitMeasures(fit, fm_names))
out <- list()

hs <- prep("hs1939")
f <- cfa(hs$model, data = hs$x)
out$hs1939_ml <- list(call = 'cfa(model, data = x)', fit = fm(f), params = pe(f), modindices = mi(f),
                      comprelsem = as.list(compRelSEM(f)),
                      residuals_cor = unname(unclass(residuals(f, type = "cor")$cov)))
f <- cfa(hs$model, data = hs$x, std.lv = TRUE)
out$hs1939_stdlv <- list(call = 'cfa(model, data = x, std.lv = TRUE)', fit = fm(f), params = pe(f))
m2 <- paste(hs$model, "g =~ visual + textual + speed", sep = "\n")
f <- cfa(m2, data = hs$x)
out$hs1939_second_order <- list(call = 'cfa("<model>\\ng =~ visual + textual + speed", data = x)',
                                fit = fm(f), params = pe(f))
m3 <- paste(hs$model, "x7 ~~ x8", sep = "\n")
f <- cfa(m3, data = hs$x)
out$hs1939_rescov <- list(call = 'cfa("<model>\\nx7 ~~ x8", data = x)', fit = fm(f), params = pe(f))
f <- cfa(hs$model, data = hs$x, missing = "ml", information = "expected")
out$hs1939_fiml <- list(call = 'cfa(model, data = x, missing = "ml", information = "expected")', fit = fm(f), params = pe(f))
dd <- cbind(hs$x, g = hs$d$school)
fc <- cfa(hs$model, data = dd, group = "g")
fmet <- cfa(hs$model, data = dd, group = "g", group.equal = "loadings")
fs <- cfa(hs$model, data = dd, group = "g", group.equal = c("loadings", "intercepts"))
fp <- cfa(hs$model, data = dd, group = "g", group.equal = c("loadings", "intercepts"), group.partial = c("x3~1", "x7~1"))
a <- anova(fc, fmet, fs)
out$hs1939_invariance <- list(
  group_label = lavInspect(fc, "group.label"),
  configural_params = pe(fc), configural_modindices = mi(fc), scalar_params = pe(fs),
  partial = list(call = 'cfa(model, data, group = "school", group.equal = c("loadings", "intercepts"), group.partial = c("x3~1", "x7~1"))', fit = fm(fp)),
  anova = list(call = "anova(configural, metric, scalar)", chisq_diff = a[["Chisq diff"]], df_diff = a[["Df diff"]], p = a[["Pr(>Chisq)"]]),
  lavtestscore_total = as.list(lavTestScore(fs)$test))

bfi <- prep("bfi")
f <- cfa(bfi$model, data = bfi$xf, missing = "ml", information = "expected")
out$bfi_fiml <- list(call = 'cfa(model, data = xf, missing = "ml", information = "expected")', fit = fm(f), params = pe(f),
                     modindices = mi(f))
f <- cfa(bfi$model, data = bfi$x)
out$bfi_ml <- list(comprelsem = as.list(compRelSEM(f)), htmt_arith = unname(unclass(htmt(bfi$model, data = bfi$x, htmt2 = FALSE))))
ddb <- cbind(bfi$x, g = bfi$d$gender)
part <- c("A1~1", "A2~1", "A5~1", "E1~1", "N1~1", "N4~1", "N5~1", "O1~1")
fp <- cfa(bfi$model, data = ddb, group = "g", group.equal = c("loadings", "intercepts"), group.partial = part)
out$bfi_partial <- list(call = paste0('cfa(model, data, group = "gender", group.equal = c("loadings", "intercepts"), group.partial = c(',
                        paste0('"', part, '"', collapse = ", "), '))'), fit = fm(fp))

# multi-group FIML on every row with an answer and a group (bfi by gender)
xg <- bfi$xf; xg$g <- read.csv(file.path(ref, "bfi.csv"))$gender[as.integer(rownames(bfi$xf))]
fcf <- cfa(bfi$model, data = xg, group = "g", missing = "ml")
fsf <- cfa(bfi$model, data = xg, group = "g", missing = "ml", group.equal = c("loadings", "intercepts"))
lt <- lavTestScore(fsf)
out$bfi_fiml_groups <- list(
  call = 'cfa(model, data = xf (+ gender), group = "gender", missing = "ml"[, group.equal = c("loadings", "intercepts")]); lavTestScore(scalar)',
  configural = fm(fcf), scalar = fm(fsf),
  score_test = list(lhs = lt$uni$lhs, rhs = lt$uni$rhs, X2 = lt$uni$X2, p = lt$uni$p.value),
  partable_labels = { pt <- parTable(fsf); list(plabel = pt$plabel, lhs = pt$lhs, op = pt$op, rhs = pt$rhs, group = pt$group) },
  group_label = lavInspect(fsf, "group.label"))

cd <- prep("consortium_dev")
f <- cfa(cd$model, data = cd$x)
out$consortium_dev_ml <- list(comprelsem = as.list(compRelSEM(f)), group_label_lang = unique(cd$d$lang),
                              group_label_sector = lavInspect(cfa(cd$model, data = cbind(cd$x, g = cd$d$sector), group = "g"), "group.label"))
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null"), args[2])
