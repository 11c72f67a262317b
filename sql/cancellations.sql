-- cancel_booking: the service's cancellation policy applied to a booking
-- paid by a hold or by a redemption, and the rule recorded.
CREATE EXTENSION credits;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Yoga: cancel at least 24 hours before for everything back; later, half
-- back; at or after the start, nothing.  Sauna: the default policy (back
-- in full until the start).
INSERT INTO credits.services (service_id, name, credit_cost, cancel_window, late_cancel_share)
VALUES (1, 'Yoga class', 2, '24 hours', 0.5);
INSERT INTO credits.services (service_id, name, credit_cost) VALUES (2, 'Sauna', 1);
SELECT credits.grant_credits(1, 20) AS batch_id;

-- bookings paid by redemptions, each cancelled at a different time
-- before a class starting on 2030-06-01 18:00
SELECT (credits.redeem_service(1, 1, reference => 'class A')).operation_id AS a \gset
SELECT (credits.redeem_service(1, 1, reference => 'class B')).operation_id AS b \gset
SELECT (credits.redeem_service(1, 1, reference => 'class C')).operation_id AS c \gset
SELECT credits.balance(1);
SELECT rule, returned, kept FROM credits.cancel_booking(1, :a, '2030-06-01 18:00+00', '2030-05-30 09:00+00');
SELECT rule, returned, kept FROM credits.cancel_booking(1, :b, '2030-06-01 18:00+00', '2030-06-01 10:00+00');
SELECT rule, returned, kept FROM credits.cancel_booking(1, :c, '2030-06-01 18:00+00', '2030-06-01 18:05+00');
SELECT credits.balance(1);
-- exactly at the window's edge still counts as in time
SELECT (credits.redeem_service(1, 1)).operation_id AS d \gset
SELECT (c).rule, (c).returned FROM credits.cancel_booking(1, :d, '2030-06-01 18:00+00', '2030-05-31 18:00+00') AS c;
SELECT booked_with, service_id, rule, returned, kept FROM credits.cancellations ORDER BY booking_id;
-- the refunds are in the ledger under the cancellation's operation
SELECT o.refund_of = r.operation_id AS refunds_its_booking, l.kind AS entry, l.delta
  FROM credits.operations o
  JOIN credits.operations r ON r.account_id = o.account_id AND r.operation_id = o.refund_of
  LEFT JOIN credits.ledger l ON l.account_id = o.account_id AND l.operation_id = o.operation_id
 WHERE o.kind = 'cancel_booking' ORDER BY o.operation_id;
-- a booking is cancelled once
SELECT credits.cancel_booking(1, :a, '2030-06-01 18:00+00', '2030-05-30 09:00+00');
-- and only a booking of this account can be cancelled
SELECT credits.cancel_booking(1, 1, '2030-06-01 18:00+00');  -- operation 1 is the grant
SELECT credits.grant_credits(2, 1) AS batch_id;
SELECT credits.cancel_booking(2, :b, '2030-06-01 18:00+00');

-- bookings paid by holds: in time the hold is released, late it is
-- captured in part (the late share goes back), a no-show captures it all
SELECT (credits.hold_service(1, 1, reference => 'class E')).hold_id AS e \gset
SELECT (credits.hold_service(1, 1, reference => 'class F')).hold_id AS f \gset
SELECT (credits.hold_service(1, 1, reference => 'class G')).hold_id AS g \gset
SELECT credits.balance(1);
SELECT rule, returned, kept FROM credits.cancel_booking(1, :e, '2030-06-01 18:00+00', '2030-05-01 12:00+00');
SELECT rule, returned, kept FROM credits.cancel_booking(1, :f, '2030-06-01 18:00+00', '2030-06-01 17:00+00');
SELECT rule, returned, kept FROM credits.cancel_booking(1, :g, '2030-06-01 18:00+00', '2030-06-01 19:00+00');
SELECT reference, status, amount, captured, released FROM credits.holds WHERE account_id = 1 ORDER BY hold_id;
SELECT credits.balance(1);
-- a hold closed by a cancellation cannot be cancelled, captured or released
SELECT credits.cancel_booking(1, :e, '2030-06-01 18:00+00');
SELECT credits.capture_hold(1, :f);

-- the default policy: back in full until the start, nothing after
SELECT (credits.redeem_service(1, 2)).operation_id AS h \gset
SELECT (c).rule, (c).returned, (c).kept FROM credits.cancel_booking(1, :h, '2030-06-01 18:00+00', '2030-06-01 17:59+00') AS c;

SELECT * FROM credits.verify_ledger();
DROP EXTENSION credits;
