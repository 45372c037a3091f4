-- Service unit x year: respondents vs the Krejcie & Morgan sample for its service population
-- (s = X^2 N P(1-P) / (d^2 (N-1) + X^2 P(1-P)), X^2 = 3.841, P = 0.5, d = 0.05, rounded to the
-- nearest integer as in Krejcie & Morgan's Table 1: see macro krejcie_morgan).
select * from {{ ref('int_survey_sample_size') }}
