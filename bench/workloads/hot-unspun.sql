-- hot: credits without the spin for the account lock, waiting for it in
-- the row's queue as PostgreSQL's own wait does (unspun 30005)
-- pgoptions: -c credits.account_lock_spin=0
SELECT credits.redeem_credits(30005, 1);
