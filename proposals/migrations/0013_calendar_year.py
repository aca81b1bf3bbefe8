"""A year's official holiday notice, entered by the committee (issue 19, part 4).

No data migration: a year that only has some day overrides was never known to be complete
(one override used to count as "entered"), so it shows the warning until the committee marks it.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('proposals', '0012_co_handling_closure'),
    ]

    operations = [
        migrations.CreateModel(
            name='CalendarYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(unique=True, verbose_name='年份')),
                ('source', models.CharField(help_text='例如：国务院办公厅关于2027年部分节假日安排的通知', max_length=200, verbose_name='依据')),
                ('entered_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='录入时间')),
                ('entered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='录入人')),
            ],
            options={
                'verbose_name': '年度节假日安排',
                'verbose_name_plural': '年度节假日安排',
                'ordering': ['-year'],
            },
        ),
    ]
