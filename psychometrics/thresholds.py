"""Every threshold the validation judges against, with its published source (one place).

Each :class:`Threshold` has a name (the key in ``results.json``'s ``thresholds``), a value,
a rule (which side is acceptable) and its source, a citation. The report prints the
source as it is, or, where the source is more than a citation, the words of
``templates/report_strings.yaml`` (``source_<name>``) in the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AD_MAX", "ALPHA_IF_DELETED_GAIN", "ALPHA_MIN", "AVE_MIN", "BARTLETT_P_MAX", "CATEGORY_MAX", "CFI_MIN", "CROSS_LOADING_GAP", "CROSS_LOADING_MIN", "FACTOR_R_MAX", "FLOOR_CEILING_MAX", "F_TEST_P", "HTMT_MAX", "ICC2_MIN", "INVARIANCE_P", "INVARIANCE_ROWS_PER_ITEM", "ITEM_REST_MIN", "KMO_MIN", "LOADING_MIN", "MIN_CELL", "MIN_GROUP_SIZE", "MISSING_MAX", "NESTING_THRESHOLDS", "OMEGA_MIN", "ORDINAL_MAX_CATEGORIES", "OUTLIER_ROWS_PER_ITEM", "RESIDUAL_MAX", "RMSEA_MAX", "RWG_J_MIN", "SRMR_MAX", "THRESHOLDS", "TLI_MIN", "TWOLEVEL_CLUSTERS_MIN", "Threshold"]


@dataclass(frozen=True)
class Threshold:
    """A cut-off used to judge an item, a respondent, a scale or a model, with its source.

    ``rule`` says which side is acceptable: ``">="`` means values at or above ``value``
    are fine (below is flagged), ``"<="`` the reverse, ``">"``/``"<"`` strictly.
    """

    name: str
    value: float
    rule: str
    source: str
    #: how results.json writes the value when it depends on the data ("A/6"); None: the value
    shown: str | None = None

    def ok(self, x: float) -> bool:
        """True when ``x`` satisfies the rule (NaN never fails: nothing to judge)."""
        if x is None or not np.isfinite(x):
            return True
        return {">=": x >= self.value, "<=": x <= self.value, ">": x > self.value,
                "<": x < self.value}[self.rule]


#: Item-rest correlation at least .30 (Nunnally & Bernstein 1994; Field 2018).
ITEM_REST_MIN = Threshold("item_rest_r", 0.30, ">=", "Nunnally & Bernstein 1994; Field 2018")
#: Alpha if the item is deleted no more than .01 above the scale's alpha.
ALPHA_IF_DELETED_GAIN = Threshold(
    "alpha_if_deleted_gain", 0.01, "<=", "Field 2018")
#: Standardized loading at least .40 (Hair, Black, Babin & Anderson 2019).
LOADING_MIN = Threshold("loading", 0.40, ">=", "Hair, Black, Babin & Anderson 2019")
#: A secondary EFA loading of .30 or more with less than .20 between the two
#: (Howard 2016's .40-.30-.20 rule).
CROSS_LOADING_MIN = Threshold("cross_loading", 0.30, "<", "Howard 2016")
CROSS_LOADING_GAP = Threshold("cross_loading_gap", 0.20, ">=", "Howard 2016")
#: At most 15% of the respondents at the lowest or the highest possible SCALE score
#: (Terwee et al. 2007's floor and ceiling effects are about the score of an instrument,
#: not about single items: with 5-point agreement items, 15% of "strongly agree" on one
#: item is ordinary and says nothing about the scale's ability to tell people apart).
#: Judged on the scale score (mean of the answered items, psych::scoreItems' rule of
#: pm.score), a scale-level flag.
FLOOR_CEILING_MAX = Threshold("floor_ceiling_pct", 15.0, "<=", "Terwee et al. 2007")
#: An item with more than 80% of its answers in one category is near-constant: it barely
#: separates respondents (the endorsement-frequency rule of Streiner, Norman & Cairney 2015,
#: items endorsed by more than 80% of respondents, applied to the modal category of an
#: ordinal item). Item-level floor and ceiling percentages are reported, not flagged.
CATEGORY_MAX = Threshold("category_pct", 80.0, "<=", "Streiner, Norman & Cairney 2015")
#: At most 10% of answers missing (Bennett 2001).
MISSING_MAX = Threshold("missing_pct", 10.0, "<=", "Bennett 2001")
#: Alpha and omega at least .70 (Nunnally & Bernstein 1994).
ALPHA_MIN = Threshold("alpha", 0.70, ">=", "Nunnally & Bernstein 1994")
OMEGA_MIN = Threshold("omega", 0.70, ">=", "Nunnally & Bernstein 1994; McDonald 1999")
#: CFA fit (Hu & Bentler 1999).
CFI_MIN = Threshold("cfi", 0.95, ">=", "Hu & Bentler 1999")
TLI_MIN = Threshold("tli", 0.95, ">=", "Hu & Bentler 1999")
RMSEA_MAX = Threshold("rmsea", 0.06, "<=", "Hu & Bentler 1999")
SRMR_MAX = Threshold("srmr", 0.08, "<=", "Hu & Bentler 1999")
#: Residual correlations beyond +-.10 point at local misfit (Kline 2016); shown in bold.
RESIDUAL_MAX = Threshold("residual_r", 0.10, "<=", "Kline 2016")
#: EFA factor correlations above .85 suggest two factors that are not distinct (Brown 2015).
FACTOR_R_MAX = Threshold("factor_r", 0.85, "<=", "Brown 2015")
#: Average variance extracted at least .50 (Fornell & Larcker 1981).
AVE_MIN = Threshold("ave", 0.50, ">=", "Fornell & Larcker 1981")
#: Heterotrait-monotrait ratio at most .85 (Henseler, Ringle & Sarstedt 2015).
HTMT_MAX = Threshold("htmt", 0.85, "<=", "Henseler, Ringle & Sarstedt 2015")
#: Sampling adequacy: KMO at least .60 (Kaiser 1974; Tabachnick & Fidell 2013).
KMO_MIN = Threshold("kmo", 0.60, ">=", "Kaiser 1974; Tabachnick & Fidell 2013")
#: Bartlett's test of sphericity significant at .05 (Bartlett 1950).
BARTLETT_P_MAX = Threshold("bartlett_p", 0.05, "<", "Bartlett 1950")
#: Items with at most 7 answer categories are treated as ordinal (polychoric correlations,
#: ordinal alpha/omega, WLSMV): Rhemtulla, Brosseau-Liard & Savalei 2012.
ORDINAL_MAX_CATEGORIES = Threshold("categories", 7, "<=", "Rhemtulla, Brosseau-Liard & Savalei 2012")
#: Mahalanobis distances need a well-estimated covariance matrix (pm.careless estimates it
#: pairwise from every respondent): with fewer respondents than 5 per item, the
#: multivariate-outlier flags are dropped (noted in results["notes"]) (Tabachnick & Fidell
#: 2013, ch. 4, on stable covariance estimates).
OUTLIER_ROWS_PER_ITEM = Threshold("rows_per_item", 5, ">=", "Tabachnick & Fidell 2013")
#: The whole model is tested for invariance when every group has at least 5 complete rows
#: per item (Bentler & Chou 1987's 5 cases per parameter, counted per item here); with fewer,
#: each scale is tested on its own (one-factor models, far fewer parameters per group).
INVARIANCE_ROWS_PER_ITEM = Threshold("invariance_rows_per_item", 5, ">=", "Bentler & Chou 1987")
#: Level of the score tests of invariance, after Holm's (1979) adjustment over the family
#: of every equality constraint tested for one grouping column (all the scales together
#: when they are tested one by one).
INVARIANCE_P = Threshold("invariance_p_holm", 0.05, ">=", "Holm 1979; Yoon & Millsap 2007")

#: Smallest group kept in an invariance test (the default of psychometrics.invariance).
MIN_GROUP_SIZE = Threshold("group_size", 30, ">=", "psychometrics.invariance default")
#: Report tables by group show "< 5" instead of any count or statistic below 5 respondents
#: (small-cell suppression, Statistics Canada's usual minimum).
MIN_CELL = Threshold("cell", 5, ">=", "Statistics Canada small-cell suppression")


THRESHOLDS: dict[str, Threshold] = {
    t.name: t
    for t in (
        ITEM_REST_MIN, ALPHA_IF_DELETED_GAIN, LOADING_MIN, CROSS_LOADING_MIN,
        CROSS_LOADING_GAP, FLOOR_CEILING_MAX, CATEGORY_MAX, MISSING_MAX, ALPHA_MIN, OMEGA_MIN, CFI_MIN,
        TLI_MIN, RMSEA_MAX, SRMR_MAX, RESIDUAL_MAX, FACTOR_R_MAX, AVE_MIN, HTMT_MAX, KMO_MIN,
        BARTLETT_P_MAX,
        ORDINAL_MAX_CATEGORIES, OUTLIER_ROWS_PER_ITEM, INVARIANCE_ROWS_PER_ITEM, INVARIANCE_P,
        MIN_GROUP_SIZE,
        MIN_CELL,
    )
}


# ---------------------------------------------------------------- nested designs
# Aggregating people's answers to their organization or consortium (psychometrics.nesting:
# results.json's clusters.thresholds; apart from THRESHOLDS, the validation's own table).

#: Group means reliable enough to stand for the group: ICC(2) at least .70.
ICC2_MIN = Threshold("icc2", 0.70, ">=", "LeBreton & Senter 2008; Bliese 2000")
#: Members of a group agree: rwg(j) at least .70 (the median over groups for the verdict).
RWG_J_MIN = Threshold("rwg_j", 0.70, ">=", "LeBreton & Senter 2008; James, Demaree & Wolf 1984")
#: Average deviation at most A/6, A the number of response options: ``value`` is the divisor.
AD_MAX = Threshold("ad", 6, "<=", "Burke & Dunlap 2002", shown="A/6")
#: A group effect: the one-way ANOVA F test significant at .05.
F_TEST_P = Threshold("f_test_p", 0.05, "<", "Bliese 2000")
#: A two-level CFA is fitted from 50 clusters with complete answers.
TWOLEVEL_CLUSTERS_MIN = Threshold("twolevel_clusters", 50, ">=", "Maas & Hox 2005")

NESTING_THRESHOLDS: dict[str, Threshold] = {
    t.name: t for t in (ICC2_MIN, RWG_J_MIN, AD_MAX, F_TEST_P, TWOLEVEL_CLUSTERS_MIN, MIN_CELL)
}
