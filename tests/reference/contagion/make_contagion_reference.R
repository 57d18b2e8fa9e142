# Reference values for psychometrics.contagion: scale scores by role with random intercepts
# for organization and consortium (lme4), and the lnam rho of each organization-level score.
# R 4.x, lme4 1.1, sna 2.7-1. Usage (from the repository root):
#   Rscript tests/reference/contagion/make_contagion_reference.R \
#     /work/shared/reference/nested/nested_dev.csv /work/shared/reference/nested/keys_nested_dev.json \
#     /work/shared/reference/nested/ties_dev.csv tests/reference/contagion/contagion_dev.json
suppressPackageStartupMessages({library(jsonlite); library(lme4); library(sna)})
a <- commandArgs(trailingOnly = TRUE)
p <- read.csv(a[1], stringsAsFactors = FALSE); keys <- fromJSON(a[2], simplifyVector = FALSE)
ties <- read.csv(a[3], stringsAsFactors = FALSE)
lo <- keys$min; hi <- keys$max
out <- list()
# scale scores: mean of the items, reverse keyed (the data have no missing answer)
for (s in names(keys$scales)) {
  its <- unlist(keys$scales[[s]]); x <- p[, sub("^-", "", its)]
  rev <- startsWith(its, "-"); x[, rev] <- hi + lo - x[, rev]
  p[[paste0("score_", s)]] <- rowMeans(x)
}
p$role <- relevel(factor(p$role), ref = "nonmember")
L <- rbind(member_vs_nonmember = c(0, 1, 0), colleague_vs_nonmember = c(0, 0, 1),
           member_vs_colleague = c(0, 1, -1))         # coefficients: (Intercept), member, colleague
p$role <- factor(p$role, levels = c("nonmember", "member", "colleague"))
mixed <- list()
for (s in names(keys$scales)) {
  f <- lmer(as.formula(paste0("score_", s, " ~ role + (1 | consortium) + (1 | org)")), data = p, REML = TRUE)
  b <- fixef(f); V <- as.matrix(vcov(f))
  est <- drop(L %*% b); se <- sqrt(diag(L %*% V %*% t(L)))
  vc <- as.data.frame(VarCorr(f))
  mixed[[s]] <- list(
    fixef = as.list(b), fixef_se = as.list(sqrt(diag(V))),
    contrasts = lapply(setNames(seq_along(est), rownames(L)), function(i)
      list(estimate = unname(est[i]), se = unname(se[i]),
           ci_low = unname(est[i] - qnorm(0.975) * se[i]), ci_high = unname(est[i] + qnorm(0.975) * se[i]))),
    var_org = vc$vcov[vc$grp == "org"], var_consortium = vc$vcov[vc$grp == "consortium"],
    var_residual = vc$vcov[vc$grp == "Residual"], reml_loglik = as.numeric(logLik(f)),
    means = as.list(tapply(p[[paste0("score_", s)]], p$role, mean)))
}
out$mixed <- mixed
# organization-level scores (mean of the organization's respondents) and their lnam on the
# row-normalized undirected ties; X = intercept + member organization (a member or a
# colleague among its respondents)
orgs <- sort(unique(p$org)); n <- length(orgs); idx <- setNames(seq_len(n), orgs)
t2 <- ties[ties$from %in% orgs & ties$to %in% orgs, ]
A <- matrix(0, n, n); A[cbind(idx[t2$from], idx[t2$to])] <- 1; A <- pmax(A, t(A))
d <- rowSums(A); W <- A; W[d > 0, ] <- A[d > 0, ] / d[d > 0]
member_org <- as.numeric(tapply(p$role != "nonmember", p$org, any)[orgs])
lnams <- list()
for (s in names(keys$scales)) {
  y <- as.numeric(tapply(p[[paste0("score_", s)]], p$org, mean)[orgs])
  ln <- lnam(y, cbind(1, member_org), W1 = W)
  lnams[[s]] <- list(rho1 = unname(ln$rho1), rho1_se = unname(ln$rho1.se), beta = unname(ln$beta),
                     beta_se = unname(ln$beta.se), sigma = ln$sigma, loglik = ln$lnlik.model)
}
out$lnam <- lnams
out$n_orgs <- n
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), a[4])
