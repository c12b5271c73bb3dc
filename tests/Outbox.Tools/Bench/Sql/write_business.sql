-- The write scenario's business change, the same in both variants: bump one order's version.
update orders set version = version + 1, total = total + 1 where id = @key returning version;
