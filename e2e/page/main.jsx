// Mounts @connectycube/chat-widget against a Parley server. The query string
// says which server and which user:
//   ?api=HOST:PORT&chat=DOMAIN&chat_url=wss://HOST:PORT/ws&appId=1&authKey=K&userId=U&userName=N
// The widget's SDK builds REST URLs as https://<endpoints.api>/... (its
// config.set clears endpoints.api_url when the widget sets its session hook),
// so Parley must serve TLS; endpoints.chat_url is the WebSocket it connects to.
import React from 'react';
import { createRoot } from 'react-dom/client';
import ConnectyCubeChatWidget from '@connectycube/chat-widget';

const q = new URLSearchParams(location.search);

const props = {
  appId: q.get('appId'),
  authKey: q.get('authKey'),
  userId: q.get('userId'),
  userName: q.get('userName'),
  config: {
    debug: { mode: 1 },
    endpoints: {
      api: q.get('api'),
      chat: q.get('chat'),
      chat_url: q.get('chat_url'),
    },
  },
  embedView: true,
  open: true,
  splitView: true,
  hideWidgetButton: true,
  // What the e2e steps for attachments, last seen, online users and blocking exercise
  // (attachments need no prop: the footer's file picker is always there).
  enableLastSeen: true,
  enableBlockList: true,
  showOnlineUsersTab: true,
};

createRoot(document.getElementById('root')).render(<ConnectyCubeChatWidget {...props} />);
