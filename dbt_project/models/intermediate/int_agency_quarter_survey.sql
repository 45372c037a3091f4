-- SKM per agency x quarter (surveys dated in the quarter): pooled NRR per element, the
-- published index and its grade. One row per agency-quarter with at least one respondent.
{{ agency_survey(['kode_opd', 'tahun', 'triwulan']) }}
