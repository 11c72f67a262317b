-- uniform: 1 credit from a random account (credits 1..10000)
\set aid random(1, 10000)
SELECT credits.redeem_credits(:aid, 1);
