{{/* Labels every object of the chart carries. */}}
{{- define "blockvault.labels" -}}
app.kubernetes.io/name: blockvault
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "blockvault.operatorName" -}}
{{ .Release.Name }}-operator
{{- end }}

{{- define "blockvault.operatorSelector" -}}
app.kubernetes.io/name: blockvault
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "blockvault.image" -}}
{{ .image.repository }}:{{ default .root.Chart.AppVersion .image.tag }}
{{- end }}
