-- SKM per agency x year (surveys dated in the year): pooled NRR per element, the published
-- index and its grade. One row per agency-year with at least one respondent.
{{ agency_survey(['kode_opd', 'tahun']) }}
