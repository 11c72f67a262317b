-- grant: a package to a random account (credits 1..10000)
\set aid random(1, 10000)
SELECT credits.grant_package(:aid, 1);
