"""Every domain's tables, so that the metadata is complete for migrations.

It sits beside `domains.py`, above the domains, because `storage` must not import them;
only Alembic's `storage/migrations/env.py` reads it. A new domain with tables adds one line.
"""

from ehrlich.audit import models as audit_models
from ehrlich.auth import models as auth_models
from ehrlich.backup import models as backup_models
from ehrlich.breach import models as breach_models
from ehrlich.campaigns import models as campaign_models
from ehrlich.consent import models as consent_models
from ehrlich.counters import models as counter_models
from ehrlich.imports import models as import_models
from ehrlich.instance import models as instance_models
from ehrlich.jobs import models as job_models
from ehrlich.notices import models as notice_models
from ehrlich.rights import models as rights_models
from ehrlich.sharing import models as sharing_models
from ehrlich.storage.base import Base
from ehrlich.subjects import models as subject_models

__all__ = ["Base", "audit_models", "auth_models", "backup_models", "breach_models",
           "campaign_models",
           "consent_models", "counter_models", "import_models", "instance_models", "job_models",
           "notice_models", "rights_models", "sharing_models", "subject_models"]
