"""What a change leaves behind: the audit trail, the outbox written in the same transaction,
and the privacy rules that shape what each reader or receiver sees of an item."""
