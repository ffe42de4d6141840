# Independent fits of the bias models of analysis/stats/bias_models.py with lme4 and ordinal.
#
#   Rscript tests/r/bias_models.R [OUT.csv]      (default: tests/r/bias_models_reference.csv)
#
# Reads the model frames written by tests/r/make_bias_models_data.py (the simulator with
# planted biases, analysis/data/bias_sim.py) and writes one row per coefficient:
# model, term, estimate, se. The stored output beside this script is what
# tests/test_bias_models.py compares the Python fits with; the live test runs this script
# again when Rscript is installed (Debian: r-base-core r-cran-lme4 r-cran-ordinal).
suppressPackageStartupMessages({library(lme4); library(ordinal)})
args <- commandArgs(trailingOnly = TRUE)
here <- local({f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)); dirname(normalizePath(f))})
out <- if (length(args) >= 1) args[1] else file.path(here, "bias_models_reference.csv")
rd <- function(name) read.csv(file.path(here, paste0("bias_models_", name, ".csv")), stringsAsFactors = FALSE)

rows <- list()
add <- function(model, fit) {
  fe <- summary(fit)$coefficients
  rows[[length(rows) + 1]] <<- data.frame(model = model, term = rownames(fe), estimate = fe[, 1], se = fe[, 2])
  vc <- as.data.frame(VarCorr(fit))
  grp <- ifelse(vc$grp == "Residual", "residual", ifelse(vc$grp == "item_id:response_id", "response_id", vc$grp))
  rows[[length(rows) + 1]] <<- data.frame(model = model, term = paste0("sd(", grp, ")"), estimate = vc$sdcor,
                                           se = NA)
}

a <- rd("all_answers"); a$run <- factor(a$run)
add("all answers", lmer(score ~ log2_length + answer_model + run + (1 | item_id) + (1 | item_id:response_id),
                        data = a, REML = TRUE))
d <- rd("difference"); d$run <- factor(d$run)
add("difference", lmer(difference ~ log2_length + own_source + run + (1 | item_id), data = d, REML = TRUE))
s <- rd("stacked")
add("stacked", lmer(score ~ judge + answer_model + judge:log2_length + judge:own_source + (1 | item_id)
                    + (1 | item_id:response_id), data = s, REML = TRUE))

o <- rd("ordinal")
o$score <- factor(o$score, ordered = TRUE)
o$rater <- relevel(factor(o$rater), ref = "H1")
fit <- clm(score ~ rater, data = o, link = "logit")
co <- summary(fit)$coefficients
keep <- grepl("^rater", rownames(co))
rows[[length(rows) + 1]] <- data.frame(model = "ordinal", term = rownames(co)[keep], estimate = co[keep, 1],
                                       se = co[keep, 2])
res <- do.call(rbind, rows)
write.csv(res, out, row.names = FALSE)
