# Standard errors of the two-level CFA (lavaan 0.6-14): parameterEstimates of the models of
# make_twolevel.R on the same rows, with lavaan's default information for two-level ML
# (printed: "observed", from the numerical Hessian), complete rows and FIML.
# Usage: Rscript make_twolevel_se.R ../../../../shared/reference/nested twolevel_se.json
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
pe <- function(f) {
  e <- parameterEstimates(f, standardized = TRUE)
  e[, c("lhs", "op", "rhs", "level", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all")]
}
w <- paste(sapply(names(keys$scales), function(s) paste0(s, "w =~ ", paste(items_of(s), collapse = " + "))), collapse = "\n")
b <- paste(sapply(names(keys$scales), function(s) paste0(s, "b =~ ", paste(items_of(s), collapse = " + "))), collapse = "\n")
out <- list()
three <- paste0("level: 1\n", w, "\nlevel: 2\n", b, "\n")
general <- paste0("level: 1\n", w, "\nlevel: 2\nG =~ ", paste(all_items, collapse = " + "), "\n")
f <- cfa(three, data = d, cluster = "org")
out$information <- lavInspect(f, "options")$information
out$three <- list(model = three, estimates = pe(f))
out$general <- list(model = general, estimates = pe(cfa(general, data = d, cluster = "org")))
m <- read.csv("nested_missing.csv")
out$three_fiml <- list(model = three, estimates = pe(cfa(three, data = m, cluster = "org", missing = "ml")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), a[2])
