-- The same kind of data as the backlog: JSON payloads of @bytes bytes over @keys ordering keys.
insert into naive.outbox (topic, key, payload)
select @topic, 'key-' || (g % @keys),
       convert_to(rpad('{"key":"key-' || (g % @keys) || '","seq":' || g || ',"pad":"', @bytes - 2, 'x') || '"}', 'UTF8')
from generate_series(1, @rows) g;
analyze naive.outbox;
