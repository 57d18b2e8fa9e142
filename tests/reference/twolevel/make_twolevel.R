# Two-level CFA references beyond ../shared/reference/nested (lavaan 0.6-14):
# the saturated (h1) and baseline fits behind chisq/CFI/TLI/SRMR, per-level std.all, and a
# model with a single between factor (a different df) on the same data.
# Usage: Rscript make_twolevel.R ../../../../shared/reference/nested twolevel.json
suppressPackageStartupMessages({library(jsonlite); library(lavaan)})
a <- commandArgs(trailingOnly = TRUE)
p <- read.csv(file.path(a[1], "nested_dev.csv"), stringsAsFactors = FALSE)
keys <- fromJSON(file.path(a[1], "keys_nested_dev.json"), simplifyVector = FALSE)
lo <- keys$min; hi <- keys$max
x <- p
for (s in names(keys$scales)) for (v in keys$scales[[s]]) if (startsWith(v, "-")) {
  it <- sub("^-", "", v); x[[it]] <- hi + lo - x[[it]]
}
items_of <- function(s) sub("^-", "", unlist(keys$scales[[s]]))
all_items <- unlist(lapply(names(keys$scales), items_of))
x <- x[complete.cases(x[, all_items]), ]
d <- x[, c("org", all_items)]
fm <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr_within", "srmr_between", "aic", "bic",
        "logl", "unrestricted.logl", "baseline.chisq", "baseline.df", "npar")
one <- function(model) {
  f <- cfa(model, data = d, cluster = "org")
  st <- standardizedSolution(f)
  ld <- st[st$op == "=~", ]
  h1 <- lavInspect(f, "h1")
  list(model = model, converged = lavInspect(f, "converged"), fit = as.list(fitMeasures(f, fm)),
       std_lhs = ld$lhs, std_rhs = ld$rhs, std_level = ld$level, std_est = ld$est.std,
       h1_within = unname(h1$within$cov), h1_between = unname(h1$org$cov), h1_mean = unname(h1$org$mean))
}
w <- paste(sapply(names(keys$scales), function(s) paste0(s, "w =~ ", paste(items_of(s), collapse = " + "))), collapse = "\n")
b <- paste(sapply(names(keys$scales), function(s) paste0(s, "b =~ ", paste(items_of(s), collapse = " + "))), collapse = "\n")
out <- list(items = all_items, n = nrow(d), clusters = length(unique(d$org)))
out$three <- one(paste0("level: 1\n", w, "\nlevel: 2\n", b, "\n"))
out$general <- one(paste0("level: 1\n", w, "\nlevel: 2\nG =~ ", paste(all_items, collapse = " + "), "\n"))
out$misfit <- one(paste0("level: 1\nGw =~ ", paste(all_items, collapse = " + "), "\nlevel: 2\n", b, "\n"))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), a[2])
