"""Plotly figure builders for the reports: one function per chart, grouped by chart kind.

- trends: the planners' quarter-by-quarter panels, the quarter snapshot, the trend slopes;
- ikm: IKM lines on the grade bands of the seed ikm_grades.csv;
- forest: point-and-interval rows against a reference (group gaps, indicator gaps);
- fairness: predikat distributions, rater effects, distribution-curve compliance;
- periods: the quarter axis every time chart shares.

Every builder takes tidy polars frames (marts or analysis tables) and returns a figure with
Indonesian titles and axis labels, styled by pipelines.reports.styles. Values go into traces
as plain Python lists (not numpy arrays) so the page's embedded JSON stays readable numbers.
"""
