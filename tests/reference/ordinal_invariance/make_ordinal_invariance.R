# Ordinal measurement invariance references (lavaan 0.6-14, semTools 0.5-6) for
# pm.invariance(data, model, group, estimator = "WLSMV").
# Usage: Rscript make_ordinal_invariance.R   (writes sim2g.csv, datcat.csv, ordinal_invariance.json)
# Steps as semTools::measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") builds them:
# configural -> thresholds -> thresholds + loadings -> thresholds + loadings + intercepts,
# each fitted by cfa(ordered = TRUE, estimator = "WLSMV", group = g, parameterization = p);
# successive steps compared by lavTestLRT(method = "satorra.2000").
suppressPackageStartupMessages({library(jsonlite); library(lavaan); library(semTools)})
set.seed(2024)
sim <- function(n, shift, lam2) {
  f <- MASS::mvrnorm(n, c(0, 0), matrix(c(1, 0.4, 0.4, 1), 2))
  lam <- c(0.8, 0.7, lam2, 0.6, 0.75, 0.7, 0.65, 0.6)
  y <- cbind(f[, 1] %o% lam[1:4], f[, 2] %o% lam[5:8])
  y <- y + matrix(rnorm(n * 8), n) %*% diag(sqrt(1 - lam^2))
  cuts <- c(-1.5, -0.5, 0.4, 1.3)
  out <- sapply(1:8, function(j) findInterval(y[, j], cuts + if (j == 3) shift else 0) + 1)
  colnames(out) <- paste0("y", 1:8); as.data.frame(out)
}
a <- sim(400, 0, 0.7); b <- sim(400, -0.6, 0.7)
sim2g <- rbind(cbind(a, grp = "A"), cbind(b, grp = "B"))
write.csv(sim2g, "sim2g.csv", row.names = FALSE)
data(datCat)
dc <- datCat; for (v in paste0("u", 1:8)) dc[[v]] <- as.integer(as.character(dc[[v]]))
dc$g <- as.character(dc$g)
write.csv(dc, "datcat.csv", row.names = FALSE)

steps <- list(configural = "", thresholds = "thresholds", loadings = c("thresholds", "loadings"),
              intercepts = c("thresholds", "loadings", "intercepts"))
fm <- c("chisq", "df", "chisq.scaled", "df.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled", "npar")
one <- function(d, model, group, ordered, param, partial = NULL) {
  fits <- list(); res <- list(); syn <- list()
  for (s in names(steps)) {
    ms <- measEq.syntax(configural.model = model, data = d, ordered = ordered, parameterization = param,
                        ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
                        group.equal = steps[[s]], group.partial = if (is.null(partial)) "" else partial)
    syn[[s]] <- as.character(ms)
    fits[[s]] <- cfa(as.character(ms), data = d, ordered = ordered, group = group,
                     estimator = "WLSMV", parameterization = param)
    res[[s]] <- as.list(fitMeasures(fits[[s]], fm))
  }
  lrt <- list()
  nm <- names(steps)
  for (i in 2:4) {
    t <- lavTestLRT(fits[[nm[i - 1]]], fits[[nm[i]]], method = "satorra.2000")
    lrt[[nm[i]]] <- list(chisq_diff = t[["Chisq diff"]][2], df_diff = t[["Df diff"]][2], pvalue = t[["Pr(>Chisq)"]][2])
  }
  list(model = model, group = group, parameterization = param, partial = partial, fit = res, lrt = lrt, syntax = syn)
}
# three unequal groups (150, 250, 300) from sim2g: the groups' weights N_g / N matter
sim3 <- rbind(transform(sim2g[1:150, ], grp = "A1"), transform(sim2g[151:400, ], grp = "A2"),
              sim2g[401:700, ])
m_sim <- "F1 =~ y1 + y2 + y3 + y4\nF2 =~ y5 + y6 + y7 + y8"
m_cat <- "FU1 =~ u1 + u2 + u3 + u4\nFU2 =~ u5 + u6 + u7 + u8"
m_cat_x <- "FU1 =~ u1 + u2 + u3 + u4\nFU2 =~ u5 + u6 + u7 + u8 + u3\nu7 ~~ u8"
ys <- paste0("y", 1:8); us <- paste0("u", 1:8)
out <- list(
  sim_delta = one(sim2g, m_sim, "grp", ys, "delta"),
  sim_theta = one(sim2g, m_sim, "grp", ys, "theta"),
  sim_partial = one(sim2g, m_sim, "grp", ys, "delta", partial = c("y3|t1", "y3|t2", "y3|t3", "y3|t4")),
  cat_delta = one(dc, m_cat, "g", us, "delta"),
  cat_theta = one(dc, m_cat, "g", us, "theta"),
  cat_cross = one(dc, m_cat_x, "g", us, "delta"),
  sim3_unequal = one(sim3, m_sim, "grp", ys, "delta"),
  versions = list(lavaan = as.character(packageVersion("lavaan")), semTools = as.character(packageVersion("semTools")))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "ordinal_invariance.json")
