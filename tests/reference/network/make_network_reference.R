# Reference values for psychometrics.network / psychometrics.autocorrelation beyond the shared
# ones (../../../../shared/reference/nested/ref_nested_dev.json has lnam with W1 only, gden,
# degree and betweenness centralization).
# sna 2.7-1, R 4.x. Usage (from the repository root):
#   Rscript tests/reference/network/make_network_reference.R \
#     /work/shared/reference/nested/orgs_dev.csv /work/shared/reference/nested/ties_dev.csv \
#     tests/reference/network/network_extra.json
suppressPackageStartupMessages({library(jsonlite); library(sna)})
a <- commandArgs(trailingOnly = TRUE)
o <- read.csv(a[1], stringsAsFactors = FALSE); ties <- read.csv(a[2], stringsAsFactors = FALSE)
n <- nrow(o); idx <- setNames(seq_len(n), o$org)
D <- matrix(0, n, n); D[cbind(idx[ties$from], idx[ties$to])] <- 1     # directed, as listed
Am <- pmax(D, t(D))                                                    # undirected
rownorm <- function(M) { d <- rowSums(M); M[d > 0, ] <- M[d > 0, ] / d[d > 0]; M }
W <- rownorm(Am)
X <- cbind(1, o$member_org, o$x1)
out <- list()
# lnam with W1 and W2 (same W), and with W2 only; AIC as print.summary.lnam: -2 lnlik + 2 df.model
fit <- function(ln) list(rho1 = if (is.null(ln$rho1)) NULL else unname(ln$rho1),
                         rho1_se = if (is.null(ln$rho1.se)) NULL else unname(ln$rho1.se),
                         rho2 = if (is.null(ln$rho2)) NULL else unname(ln$rho2),
                         rho2_se = if (is.null(ln$rho2.se)) NULL else unname(ln$rho2.se),
                         beta = unname(ln$beta), beta_se = unname(ln$beta.se), sigma = ln$sigma,
                         loglik = ln$lnlik.model, aic = -2 * ln$lnlik.model + 2 * ln$df.model)
out$lnam_w1 <- fit(lnam(o$outcome, X, W1 = W))
out$lnam_w1w2 <- fit(lnam(o$outcome, X, W1 = W, W2 = W))
out$lnam_w2 <- fit(lnam(o$outcome, X, W2 = W))
# a directed W (ties as listed, row-normalized): complex eigenvalues
out$lnam_directed <- fit(lnam(o$outcome, X, W1 = rownorm(D)))
# Moran's I on the row-normalized W; sna::nacf gives I at lag 1 on the binary adjacency
# (i_binary_nacf, the same as Moran's I with W = A); the test under
# normality (Cliff & Ord 1981) is written out, as ape::Moran.I does (ape not installed here)
z <- o$outcome - mean(o$outcome)
S0 <- sum(W); S1 <- 0.5 * sum((W + t(W))^2); S2 <- sum((rowSums(W) + colSums(W))^2)
I <- n / S0 * sum(z * (W %*% z)) / sum(z^2)
EI <- -1 / (n - 1); VI <- (n^2 * S1 - n * S2 + 3 * S0^2) / ((n^2 - 1) * S0^2) - EI^2
out$moran <- list(i = I, i_binary_nacf = unname(nacf(Am, o$outcome, lag.max = 1, type = "moran", mode = "graph")[2]),
                  expected = EI, variance = VI, z = (I - EI) / sqrt(VI),
                  p = 2 * pnorm(-abs((I - EI) / sqrt(VI))))
# closeness (graph) and the directed measures (mode = "digraph": Freeman degree)
out$undirected <- list(closeness_centralization = centralization(Am, closeness, mode = "graph"),
                       closeness = closeness(Am, gmode = "graph"),
                       betweenness = betweenness(Am, gmode = "graph"),
                       degree = degree(Am, gmode = "graph"))
out$directed <- list(density = gden(D, mode = "digraph"),
                     degree_centralization = centralization(D, degree, mode = "digraph"),
                     betweenness_centralization = centralization(D, betweenness, mode = "digraph"),
                     reciprocity = grecip(D, measure = "edgewise"))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), a[3])
