select count(*) from outbox.messages;
