-- Every tenant has a default SLA policy holding the seed targets (DOMAIN §3); tenants created
-- before SLA policies existed get theirs here. New tenants get one when they are created.
INSERT INTO sla_policies (id, tenant_id, name, priority, match, calendar_id, warn_at, targets, is_default, active, version)
SELECT gen_random_uuid(), t.id, 'Default', 1000000,
       '{"channels": [], "categories": [], "severities": []}'::jsonb, NULL, ARRAY[0.75]::real[],
       '{"firstContact": {"duration": "PT24H", "clock": "calendar"},
         "onlineReply": {"duration": "PT4H", "clock": "calendar"},
         "resolution": {"duration": "P5D", "clock": "business"},
         "followUp": {"duration": "PT24H", "clock": "calendar"},
         "majorReport": {"duration": "PT24H", "clock": "calendar"},
         "progressUpdate": {"duration": "PT4H", "clock": "calendar"}}'::jsonb,
       true, true, 1
FROM tenants t
WHERE NOT EXISTS (SELECT 1 FROM sla_policies p WHERE p.tenant_id = t.id AND p.is_default);
--> statement-breakpoint
INSERT INTO sla_policy_versions (policy_id, version, tenant_id, snapshot)
SELECT p.id, p.version, p.tenant_id, to_jsonb(p) FROM sla_policies p
WHERE NOT EXISTS (SELECT 1 FROM sla_policy_versions v WHERE v.policy_id = p.id AND v.version = p.version);
