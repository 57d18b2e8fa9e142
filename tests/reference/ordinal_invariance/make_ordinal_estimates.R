# Parameter estimates of ordinal invariance steps (lavaan 0.6-14, semTools 0.5-6) for
# pm.invariance(..., estimator = "WLSMV").fits[step].estimates.
# Usage: Rscript make_ordinal_estimates.R   (reads sim2g.csv and datcat.csv, written by
# make_ordinal_invariance.R; writes ordinal_estimates.json)
# Per case and step: measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") then
# cfa(ordered = TRUE, estimator = "WLSMV", group = g, parameterization = p) and
# parameterEstimates(fit, standardized = TRUE): est, se (robust.sem), std.all, every row.
suppressPackageStartupMessages({library(jsonlite); library(lavaan); library(semTools)})
steps <- list(configural = "", thresholds = "thresholds", loadings = c("thresholds", "loadings"),
              intercepts = c("thresholds", "loadings", "intercepts"))
one <- function(d, model, group, ordered, param, partial = NULL) {
  out <- list()
  for (s in names(steps)) {
    ms <- measEq.syntax(configural.model = model, data = d, ordered = ordered, parameterization = param,
                        ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
                        group.equal = steps[[s]], group.partial = if (is.null(partial)) "" else partial)
    fit <- cfa(as.character(ms), data = d, ordered = ordered, group = group,
               estimator = "WLSMV", parameterization = param)
    pe <- parameterEstimates(fit, standardized = TRUE)
    pe$group <- lavInspect(fit, "group.label")[pe$group]
    out[[s]] <- pe[, c("lhs", "op", "rhs", "group", "label", "est", "se", "std.all")]
  }
  list(model = model, group = group, parameterization = param, partial = partial, steps = out)
}
sim2g <- read.csv("sim2g.csv")
dc <- read.csv("datcat.csv")
m_sim <- "F1 =~ y1 + y2 + y3 + y4\nF2 =~ y5 + y6 + y7 + y8"
m_cat_x <- "FU1 =~ u1 + u2 + u3 + u4\nFU2 =~ u5 + u6 + u7 + u8 + u3\nu7 ~~ u8"
ys <- paste0("y", 1:8); us <- paste0("u", 1:8)
out <- list(
  sim_delta = one(sim2g, m_sim, "grp", ys, "delta"),
  sim_theta = one(sim2g, m_sim, "grp", ys, "theta"),
  cat_cross = one(dc, m_cat_x, "g", us, "delta"),
  versions = list(lavaan = as.character(packageVersion("lavaan")), semTools = as.character(packageVersion("semTools")))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), "ordinal_estimates.json")
