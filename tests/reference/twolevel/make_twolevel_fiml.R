# Two-level CFA with missing answers (lavaan 0.6-14, missing = "ml"): nested_dev reverse keyed,
# then 5% of the item answers blanked at random (seed 2024), written to nested_missing.csv.
# Usage: Rscript make_twolevel_fiml.R ../../../../shared/reference/nested twolevel_fiml.json
suppressPackageStartupMessages({library(jsonlite); library(lavaan)})
a <- commandArgs(trailingOnly = TRUE)
p <- read.csv(file.path(a[1], "nested_dev.csv"), stringsAsFactors = FALSE)
keys <- fromJSON(file.path(a[1], "keys_nested_dev.json"), simplifyVector = FALSE)
lo <- keys$min; hi <- keys$max
for (s in names(keys$scales)) for (v in keys$scales[[s]]) if (startsWith(v, "-")) {
  it <- sub("^-", "", v); p[[it]] <- hi + lo - p[[it]]
}
items <- unlist(lapply(names(keys$scales), function(s) sub("^-", "", unlist(keys$scales[[s]]))))
d <- p[, c("org", items)]
set.seed(2024)
m <- matrix(runif(nrow(d) * length(items)) < 0.05, nrow(d))
for (j in seq_along(items)) d[m[, j], items[j]] <- NA
d <- d[rowSums(!is.na(d[, items])) > 0, ]
write.csv(d, "nested_missing.csv", row.names = FALSE)
w <- paste(sapply(names(keys$scales), function(s) paste0(s, "w =~ ", paste(sub("^-", "", unlist(keys$scales[[s]])), collapse = " + "))), collapse = "\n")
b <- paste(sapply(names(keys$scales), function(s) paste0(s, "b =~ ", paste(sub("^-", "", unlist(keys$scales[[s]])), collapse = " + "))), collapse = "\n")
model <- paste0("level: 1\n", w, "\nlevel: 2\n", b, "\n")
f <- cfa(model, data = d, cluster = "org", missing = "ml")
fm <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr_within", "srmr_between", "aic", "bic",
        "logl", "unrestricted.logl", "baseline.chisq", "baseline.df", "npar")
st <- standardizedSolution(f); ld <- st[st$op == "=~", ]
out <- list(model = model, n = nrow(d), converged = lavInspect(f, "converged"), fit = as.list(fitMeasures(f, fm)),
            std_lhs = ld$lhs, std_rhs = ld$rhs, std_est = ld$est.std)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), a[2])
