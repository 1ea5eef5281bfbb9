"""Outbox retention (TipzedOutboxRetention, default 30 days): finished
deliveries (with their attempts), finished mail and the events nothing
refers to any more are removed once older than the retention; pending
deliveries are kept however old; mail that no node tried within three
days expires instead of being sent late.  A node's dispatcher prunes at
its first tick, so a second node started on the database does it here."""
import uuid

from receiver import Receiver
from test_wallet_payments import fund, tip
from test_webhooks import endpoint, wait_for
from tzclient import register
from tznode import Node


def _count(stack, sql):
    return int(stack.psql(sql)[0][0])


def test_finished_outbox_rows_go_after_the_retention(api, stack, new_client):
    rec = Receiver(fail_first=0)
    try:
        creator = register(new_client(), role="creator")
        ep = endpoint(api, creator, rec.url, ["payment.succeeded"])
        fan = register(new_client())
        fund(stack, fan["user"]["id"], 10000)
        old = [tip(api, fan, creator["user"]["id"], 500 + i).json["id"] for i in range(2)]
        keep = tip(api, fan, creator["user"]["id"], 700).json["id"]
        events = lambda pids: ("SELECT id FROM outbox_events WHERE type = 'payment.succeeded' "
                               f"AND data->>'id' IN ({', '.join(repr(p) for p in pids)})")
        done = lambda: _count(stack, f"""SELECT count(*) FROM webhook_deliveries
                                          WHERE status = 'succeeded' AND endpoint_id = '{ep["id"]}'""")
        assert wait_for(lambda: done() == 3, 30)
        assert wait_for(lambda: _count(stack, f"SELECT count(*) FROM mail_outbox WHERE status = 'sent' "
                                              f"AND event_id IN ({events(old + [keep])})") == 3, 30)
        # the two old tips' rows are 40 days old; one of them still has a
        # delivery pending (its endpoint's retries go on, never due), which
        # keeps it
        ids = [row[0] for row in stack.psql(events(old))]
        stack.psql(f"""UPDATE outbox_events SET created_at = now() - interval '40 days'
                        WHERE id IN ({events(old)});
                       UPDATE webhook_deliveries SET created_at = now() - interval '40 days'
                        WHERE event_id IN ({events(old)});
                       UPDATE mail_outbox SET created_at = now() - interval '40 days'
                        WHERE event_id IN ({events(old)});
                       UPDATE webhook_deliveries SET status = 'pending', next_at = 'infinity'
                        WHERE event_id = '{ids[1]}' AND endpoint_id = '{ep["id"]}';
                       UPDATE webhook_deliveries SET status = 'failed'
                        WHERE event_id = '{ids[0]}' AND endpoint_id <> '{ep["id"]}'""")
        # a mail no node tried for four days and none will try (the sandbox
        # clock of other tests may be months ahead: 'infinity' stays ahead)
        untried = stack.psql(f"""INSERT INTO mail_outbox (event_id, user_id, template, created_at, next_at)
                                 VALUES ('{ids[1]}', '{creator["user"]["id"]}', 'payment_succeeded',
                                         now() - interval '4 days', 'infinity')
                                 RETURNING id""")[0][0]
        gone = [row[0] for row in stack.psql(f"SELECT id FROM webhook_deliveries "
                                             f"WHERE event_id = '{ids[0]}'")]
        attempts_of_gone = f"delivery_id IN ({', '.join(repr(d) for d in gone)})"
        assert _count(stack, f"SELECT count(*) FROM webhook_attempts WHERE {attempts_of_gone}") >= 1
        node = Node(stack, f"prune-{uuid.uuid4().hex[:6]}")
        node.start()
        try:
            assert wait_for(lambda: _count(stack, f"SELECT count(*) FROM outbox_events "
                                                  f"WHERE id = '{ids[0]}'") == 0, 30)
        finally:
            node.stop()
        left = lambda table, where: _count(stack, f"SELECT count(*) FROM {table} WHERE {where}")
        # the first old tip: delivery, its attempt, its mail and the event are gone
        assert left("webhook_deliveries", f"event_id = '{ids[0]}'") == 0
        assert left("mail_outbox", f"event_id = '{ids[0]}'") == 0
        assert left("webhook_attempts", attempts_of_gone) == 0
        # the second: its sent mail went, its pending delivery and the event stay
        assert left("webhook_deliveries", f"event_id = '{ids[1]}' AND status = 'pending'") == 1
        assert left("outbox_events", f"id = '{ids[1]}'") == 1
        assert stack.psql(f"SELECT status FROM mail_outbox WHERE id = '{untried}'") == [("expired",)]
        # the recent tip is untouched
        assert left("webhook_deliveries", f"event_id IN ({events([keep])}) AND status = 'succeeded'") == 1
        assert left("mail_outbox", f"event_id IN ({events([keep])}) AND status = 'sent'") == 1
        # the ledger never is the outbox's to prune
        assert left("payments", f"id IN ({', '.join(repr(p) for p in old)}) AND status = 'succeeded'") == 2
    finally:
        rec.close()
