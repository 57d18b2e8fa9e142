# Careless-responding reference values in base R, for tests/test_scoring.py.
# Usage (from tests/reference): Rscript make_careless.R ../../../shared/reference
# Writes careless_<name>.json for bfi and consortium_dev, on the listwise-complete rows of the
# items in key order (raw answers, not reverse keyed):
#   row        1-based row number in <name>.csv
#   longstring max(rle(row)$lengths)        longstring_avg mean(rle(row)$lengths)
#   irv        apply(x, 1, sd)              (careless::irv)
#   d2         mahalanobis(x, colMeans(x), cov(x));  p  pchisq(d2, ncol(x), lower.tail = FALSE)
suppressPackageStartupMessages(library(jsonlite))
ref <- commandArgs(trailingOnly = TRUE)[1]
for (name in c("bfi", "consortium_dev")) {
  cfg <- fromJSON(file.path(ref, paste0(name, ".json")), simplifyVector = FALSE)
  raw <- read.csv(file.path(ref, cfg$csv), stringsAsFactors = FALSE)
  items <- sub("^-", "", unlist(cfg$scales, use.names = FALSE))
  keep <- complete.cases(raw[, items])
  x <- as.matrix(raw[keep, items])
  runs <- apply(x, 1, function(r) rle(as.vector(r))$lengths, simplify = FALSE)
  d2 <- mahalanobis(x, colMeans(x), cov(x))
  out <- list(dataset = name, items = items, row = which(keep),
              longstring = sapply(runs, max), longstring_avg = sapply(runs, mean),
              irv = unname(apply(x, 1, sd)), d2 = unname(d2),
              p = unname(pchisq(d2, ncol(x), lower.tail = FALSE)))
  write_json(out, paste0("careless_", name, ".json"), digits = NA)
}
