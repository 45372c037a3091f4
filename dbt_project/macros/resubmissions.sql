{#- The employee-level fields an assessment export repeats on every indicator row (the name
    included), as one 64-bit hash: equal on every row of an employee-period unless a field
    differs. Two different value sets share a hash with probability ~2^-64 per pair, so a
    conflict is missed with negligible probability; the conflicting values themselves are
    listed from the fields, not the hash. -#}
{% macro employee_fields_hash() -%}
    hash(
        nama, kode_opd, nama_opd, unit_kerja, jabatan, jenis_jabatan, golongan,
        rating_hasil_kerja, rating_perilaku, predikat, penilai_key
    )
{%- endmacro %}
