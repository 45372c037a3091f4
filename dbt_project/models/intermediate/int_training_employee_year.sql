-- JP per employee-year (courses dated by start), with the year-to-date JP at each quarter end
-- so quarterly 20-JP coverage can be read without re-scanning training rows.
select
    employee_key,
    tahun,
    cast(count(*) as integer) as n_courses,
    sum(jp) as jp_total,
    {%- for q in range(1, 5) %}
    coalesce(sum(jp) filter (where triwulan = {{ q }}), 0) as jp_q{{ q }},
    coalesce(sum(jp) filter (where triwulan <= {{ q }}), 0) as jp_ytd_q{{ q }},
    {%- endfor %}
    sum(jp) >= 20 as reached_20jp
from {{ ref('stg_training') }}
group by employee_key, tahun
