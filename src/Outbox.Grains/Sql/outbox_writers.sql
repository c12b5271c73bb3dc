-- Which of the given transactions (64-bit ids) may hold an outbox id: those holding any lock on outbox.messages.
-- An INSERT locks the table before it draws an id and keeps the lock until its transaction ends, so a transaction
-- without that lock holds no id now, and any id it draws later is above every id handed out so far. The change
-- probe asks this only about transactions that have held the settled horizon back for a while (a long report, an
-- idle session), so that one long transaction elsewhere does not hold back every partition's read position.
select x
from unnest(@xids::bigint[]) x
where exists (select 1
              from pg_locks t
              join pg_locks r on r.virtualtransaction = t.virtualtransaction
              where t.locktype = 'transactionid' and t.transactionid::text::bigint = x % 4294967296
                and r.locktype = 'relation' and r.relation = 'outbox.messages'::regclass);
