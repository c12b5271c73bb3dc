-- Takes a parked event out of inbox.parked in the transaction that applies it (0 rows: an operator discarded it).
delete from inbox.parked where id = @id;
