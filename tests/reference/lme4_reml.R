# REML reference for analysis.stats.gtheory.g_study(method = "reml"): fits every design of
# lme4_reml_data.csv (written by lme4_reml_designs.py) with lme4::lmer(REML = TRUE) and writes
# lme4_reml_components.csv: design_id, component, variance, loglik (the REML log-likelihood),
# optimizer (the fit kept).
#
# lmer is a local optimiser too, so each design is fitted with three optimisers (bobyqa,
# Nelder_Mead, nloptwrap) from two starting values (theta = 1, lme4's default, and 0.1) and
# the fit with the largest REML log-likelihood is kept.
#
# Usage: Rscript tests/reference/lme4_reml.R [data.csv] [out.csv]
# (Debian: apt-get install r-base-core r-cran-lme4)

suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else "."
})
data_file <- if (length(args) >= 1) args[1] else file.path(here, "lme4_reml_data.csv")
out_file <- if (length(args) >= 2) args[2] else file.path(here, "lme4_reml_components.csv")

formulas <- list(
  "p x i" = y ~ 1 + (1 | p) + (1 | e),
  "p x e x r" = y ~ 1 + (1 | p) + (1 | e) + (1 | r) + (1 | p:e) + (1 | p:r) + (1 | e:r),
  "p x (r:e)" = y ~ 1 + (1 | p) + (1 | e) + (1 | e:r) + (1 | p:e)
)
# lme4's group names -> the components of analysis.stats.gtheory.COMPONENTS
names_of <- list(
  "p x i" = c(p = "p", e = "i", Residual = "pi"),
  "p x e x r" = c(p = "p", e = "e", r = "r", "p:e" = "pe", "p:r" = "pr", "e:r" = "er", Residual = "per"),
  "p x (r:e)" = c(p = "p", e = "e", "e:r" = "r:e", "p:e" = "pe", Residual = "pr:e")
)

d <- read.csv(data_file, colClasses = c("character", "character", "integer", "integer", "integer", "numeric"))
out <- list()
for (id in unique(d$design_id)) {
  s <- d[d$design_id == id, ]
  design <- s$design[1]
  s$p <- factor(s$p); s$e <- factor(s$e); s$r <- factor(s$r)
  n_theta <- length(names_of[[design]]) - 1
  best <- NULL; best_opt <- NA
  for (opt in c("bobyqa", "Nelder_Mead", "nloptwrap")) {
    for (start in c(1, 0.1)) {
      ctrl <- lmerControl(optimizer = opt, calc.derivs = FALSE, check.nobs.vs.nlev = "ignore",
                          check.nobs.vs.rankZ = "ignore", check.nlev.gtr.1 = "ignore",
                          check.conv.singular = "ignore", optCtrl = list(maxfun = 1e5))
      fit <- tryCatch(suppressWarnings(lmer(formulas[[design]], data = s, REML = TRUE, control = ctrl,
                                            start = list(theta = rep(start, n_theta)))),
                      error = function(e) NULL)
      if (!is.null(fit) && (is.null(best) || as.numeric(logLik(fit)) > as.numeric(logLik(best)))) {
        best <- fit; best_opt <- sprintf("%s, theta0 = %g", opt, start)
      }
    }
  }
  vc <- as.data.frame(VarCorr(best))
  out[[id]] <- data.frame(design_id = id, design = design, component = unname(names_of[[design]][vc$grp]),
                          variance = vc$vcov, loglik = as.numeric(logLik(best)), optimizer = best_opt)
}
res <- do.call(rbind, out)
res$variance <- sprintf("%.10g", res$variance)
res$loglik <- sprintf("%.10f", as.numeric(res$loglik))
write.csv(res, out_file, row.names = FALSE, quote = TRUE)
cat(sprintf("wrote %s (%d designs, lme4 %s)\n", out_file, length(out), as.character(packageVersion("lme4"))))
