# Reference values for psychometrics.power (MacCallum, Browne & Sugawara 1996, as semPower
# and semTools implement them). semPower is on CRAN only (unreachable here): the numbers are
# made with base R's pchisq / qchisq, the closed forms semPower uses (one group, N - 1 in
# the non-centrality); semTools::findRMSEApower is recorded beside them as a cross-check.
# Run: Rscript make_power.R  (writes power.json next to this script)
suppressMessages(library(semTools))
library(jsonlite)

power_rmsea <- function(df, n, rmsea0, rmsea1, alpha) {
  ncp0 <- (n - 1) * df * rmsea0^2
  ncp1 <- (n - 1) * df * rmsea1^2
  if (rmsea0 < rmsea1) {            # close (or exact) fit: reject in the upper tail
    crit <- qchisq(alpha, df, ncp = ncp0, lower.tail = FALSE)
    pow <- pchisq(crit, df, ncp = ncp1, lower.tail = FALSE)
  } else {                          # not-close fit: reject in the lower tail
    crit <- qchisq(alpha, df, ncp = ncp0, lower.tail = TRUE)
    pow <- pchisq(crit, df, ncp = ncp1, lower.tail = TRUE)
  }
  list(power = pow, critical = crit, ncp0 = ncp0, ncp1 = ncp1)
}

# smallest N with power >= target (scan, as semTools::findRMSEAsamplesize, but >=)
power_n <- function(df, target, rmsea0, rmsea1, alpha) {
  n <- 2:5000
  repeat {
    pow <- sapply(n, function(m) power_rmsea(df, m, rmsea0, rmsea1, alpha)$power)
    if (any(pow >= target)) return(n[which(pow >= target)[1]])
    n <- n + length(n)
  }
}

pairs <- list(c(0.05, 0.08), c(0, 0.05), c(0.05, 0.01), c(0.05, 0), c(0.02, 0.06), c(0.08, 0.05))
cases <- list()
for (df in c(1, 5, 20, 50, 100, 300)) for (n in c(50, 100, 200, 500, 1000))
  for (p in pairs) for (alpha in c(0.05, 0.01)) {
    r <- power_rmsea(df, n, p[1], p[2], alpha)
    cases[[length(cases) + 1]] <- list(
      df = df, n = n, rmsea0 = p[1], rmsea1 = p[2], alpha = alpha,
      power = r$power, critical = r$critical, ncp0 = r$ncp0, ncp1 = r$ncp1,
      semtools = findRMSEApower(p[1], p[2], df, n, alpha))
  }

sizes <- list()
for (df in c(2, 10, 20, 50, 100)) for (p in pairs[c(1, 2, 3, 5)]) for (target in c(0.8, 0.9)) {
  n <- power_n(df, target, p[1], p[2], 0.05)
  sizes[[length(sizes) + 1]] <- list(
    df = df, rmsea0 = p[1], rmsea1 = p[2], alpha = 0.05, power = target, n = n,
    semtools = findRMSEAsamplesize(p[1], p[2], df, target, 0.05))
}

out <- list(
  r_version = R.version.string, semtools_version = as.character(packageVersion("semTools")),
  call = "power_rmsea(df, n, rmsea0, rmsea1, alpha) and power_n(df, target, rmsea0, rmsea1, alpha) above",
  power = cases, power_n = sizes)
write_json(out, "power.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
