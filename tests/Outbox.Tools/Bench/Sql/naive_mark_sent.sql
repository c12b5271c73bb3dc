-- The classic acknowledgement: one UPDATE per published row.
update naive.outbox set status = 'SENT' where id = @id;
