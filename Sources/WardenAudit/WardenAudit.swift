// WardenAudit
